"""The portfolio: facts computed in SQL (`uow.facts.portfolio`) and the message that
shows them."""

from __future__ import annotations

from typing import Any

from bot.domain.portfolio import portfolio_config
from bot.messages.message import Message
from bot.messages.portfolio import render_portfolio
from bot.ports import Clock, UnitOfWork
from bot.settings import Settings


def portfolio_data(uow: UnitOfWork, clock: Clock, settings: Settings) -> dict[str, Any]:
    """Portfolio facts, JSON-ready (`govbot portfolio --json`)."""
    config = portfolio_config(settings)
    with uow:
        return uow.facts.portfolio(clock.now(), config)


def portfolio_message(uow: UnitOfWork, clock: Clock, settings: Settings) -> Message:
    return render_portfolio(portfolio_data(uow, clock, settings))
