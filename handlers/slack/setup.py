"""Mount the Slack channel on the server of `govbot serve`."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def missing_settings(settings: Any, *, socket: bool = False) -> list[str]:
    """The environment variables Slack needs that are not set."""
    missing = []
    if not settings.slack_bot_token or not settings.slack_bot_token.get_secret_value().strip():
        missing.append("SLACK_BOT_TOKEN")
    if socket:
        if not settings.slack_app_token or not settings.slack_app_token.get_secret_value().strip():
            missing.append("SLACK_APP_TOKEN")
    elif not settings.slack_signing_secret or not settings.slack_signing_secret.get_secret_value().strip():
        missing.append("SLACK_SIGNING_SECRET")
    return missing


def build_front_end(core: Any, settings: Any, *, socket: bool = False) -> Any:
    """The SlackFrontEnd with every listener registered (raises StartupError when a
    variable is missing)."""
    from handlers.slack import actions, commands, events, views  # noqa: I001
    from handlers.slack.app import SlackFrontEnd, make_client
    from handlers.base import StartupError

    missing = missing_settings(settings, socket=socket)
    if missing:
        raise StartupError(f"Slack is not configured: set {', '.join(missing)} (see docs/slack.md)")
    fe = SlackFrontEnd(core, settings, make_client(settings))
    for module in (commands, actions, views, events):
        module.register(fe)
    return fe


def mount(app: Any, core: Any, settings: Any, *, socket: bool = False) -> Any:
    """Add `POST /slack/events` to the aiohttp `app`; return the outbox Sender."""
    from handlers.slack.app import make_client
    from handlers.slack.sender import SlackSender

    fe = build_front_end(core, settings, socket=socket)
    if fe.verifier is not None:
        app.router.add_post("/slack/events", fe.handle_http)
        logger.info("slack: listening on POST /slack/events (command %s)", settings.slack_command)
    else:  # Socket Mode without a signing secret: unsigned HTTP requests are never accepted
        logger.info("slack: no SLACK_SIGNING_SECRET; HTTP events off, Socket Mode only")
    from handlers.base import SLACK_KEY

    app[SLACK_KEY] = fe
    return SlackSender(make_client(settings, rate_limit_retries=False), names=fe.names)
