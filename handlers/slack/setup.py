"""Mount the Slack channel on the server of `govbot serve`: check its settings and its
token at start-up, add its HTTP route, connect Socket Mode."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# Slack's answers to auth.test that mean the token itself is wrong.
BAD_TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}
)


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
    from handlers.slack import actions, assess, commands, events, incidents, views  # noqa: I001
    from handlers.slack.app import SlackFrontEnd, make_client
    from handlers.base import StartupError

    missing = missing_settings(settings, socket=socket)
    if missing:
        raise StartupError(f"Slack is not configured: set {', '.join(missing)} (see docs/slack.md)")
    fe = SlackFrontEnd(core, settings, make_client(settings))
    for module in (commands, actions, assess, views, events, incidents):
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


async def verify_token(settings: Any) -> None:
    """Ask Slack (`auth.test`) whether SLACK_BOT_TOKEN is good; StartupError naming it when
    Slack refuses the token. When Slack cannot be reached the server starts anyway
    (the outbox keeps every message until it can), and says so."""
    from slack_sdk.errors import SlackApiError

    from handlers.base import StartupError
    from handlers.slack.app import make_client

    client = make_client(settings, rate_limit_retries=False)
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in BAD_TOKEN_ERRORS:
            raise StartupError(
                f"SLACK_BOT_TOKEN: Slack refused the token ({error}); use the app's Bot User OAuth Token "
                "(xoxb-...) from OAuth & Permissions"
            ) from None
        logger.warning("slack: auth.test failed (%s); starting anyway", error or exc.response.status_code)
        return
    except Exception as exc:  # unreachable or timed out: not a settings problem
        logger.warning("slack: cannot reach Slack for auth.test (%s); starting anyway", type(exc).__name__)
        return
    logger.info("slack: token of %s in workspace %s", answer.get("user_id"), answer.get("team"))


async def connect_socket_mode(fe: Any, settings: Any) -> Any:
    """Connect the front end `fe` (`build_front_end`) to Slack in Socket Mode with
    SLACK_APP_TOKEN; the caller closes the returned handler (`close_async`)."""
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(fe.bolt, settings.slack_app_token.get_secret_value())
    await handler.connect_async()
    logger.info("slack: connected in Socket Mode")
    return handler
