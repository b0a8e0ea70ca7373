"""CloudAdapter construction for govbot, with the botbuilder 4.17.1 invoke fix.

botbuilder-integration-aiohttp 4.17.1 answers HTTP 500 to every invoke that carries a
body (`adaptiveCard/action`, i.e. Action.Execute): `ActivityHandler` already runs the
body through `serializer_helper`, and `CloudAdapter.process` runs the resulting dict
through it a second time, which raises. `GovbotCloudAdapter.process` writes the
InvokeResponse itself and serializes only what is still a msrest model.

It also authenticates before running the turn, so a request without a valid token is
refused with 401 whenever `MicrosoftAppId` is set, and it switches off the connector
client's own retries: the outbox retries with backoff, honouring Retry-After.

Connector clients are reused (`ReusedClientsAuthentication`): stock botbuilder builds a
new one (credentials, HTTP session) for every turn and every proactive message, which
cost more CPU than the rest of a `help` answer; govbot answers a message after its turn
through a proactive turn, so that would be twice per message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse
from botframework.connector import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.serialization import Model
from urllib3 import Retry

from handlers.base import StartupError
from handlers.guard import Malformed, load_json

logger = logging.getLogger(__name__)


class TeamsConfigError(StartupError):
    """Teams is enabled but not configured safely; the message names the variable."""


@dataclass(frozen=True)
class BotConfig:
    """The configuration object botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str | None
    APP_PASSWORD: str | None
    APP_TENANTID: str | None
    APP_TYPE: str = "MultiTenant"


def bot_config(settings: Any) -> BotConfig:
    """Translate govbot settings into botbuilder's configuration, refusing unsafe setups.

    With `MicrosoftAppId` set, inbound requests must carry a Bot Framework token. Running
    without credentials is allowed only when GOVBOT_ENV=local is set explicitly.
    """
    app_id = (settings.microsoft_app_id or "").strip() or None
    password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else None
    tenant = (settings.microsoft_app_tenant_id or "").strip() or None
    app_type = settings.microsoft_app_type or "MultiTenant"
    if app_id is None:
        if settings.govbot_env != "local":
            raise TeamsConfigError(
                "Teams is enabled but MicrosoftAppId is not set; set MicrosoftAppId and MicrosoftAppPassword "
                "(and MicrosoftAppTenantId for single-tenant bots), or set GOVBOT_ENV=local to run "
                "/api/messages without authentication on a development machine"
            )
        logger.warning(
            "Teams: MicrosoftAppId is not set and GOVBOT_ENV=local: /api/messages accepts UNAUTHENTICATED "
            "requests. Never expose this server to a network."
        )
        return BotConfig(None, None, None, "MultiTenant")
    if not password and app_type.lower() != "userassignedmsi":
        raise TeamsConfigError("MicrosoftAppId is set but MicrosoftAppPassword is not; set MicrosoftAppPassword")
    if app_type.lower() == "singletenant" and not tenant:
        raise TeamsConfigError("MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId; set MicrosoftAppTenantId")
    return BotConfig(app_id, password, tenant, app_type)


def switch_off_retries(connector_client: Any) -> None:
    """No retries by the connector client: the response reaches us with its status and
    Retry-After, and the outbox decides when to try again. The client's own Retry is
    changed in place, so the HTTP sessions it already made (one per thread) follow."""
    policy: Retry = connector_client.config.retry_policy.policy
    policy.total = policy.connect = policy.read = policy.status = 0
    policy.status_forcelist = frozenset()
    policy.raise_on_status = False


def _json_body(body: Any) -> Any:
    """The InvokeResponse body as JSON-ready data: models are serialized once, dicts kept."""
    if isinstance(body, AdaptiveCardInvokeResponse) and isinstance(body.value, Exception):
        # botbuilder's own error responses carry Exception(code, message), which msrest cannot serialize
        args = [str(a) for a in body.value.args] + ["", ""]
        return {
            "statusCode": int(body.status_code or 500),
            "type": body.type,
            "value": {"code": args[0], "message": args[1]},
        }
    if isinstance(body, Model):
        return serializer_helper(body)
    if isinstance(body, (list, tuple)):
        return [_json_body(b) for b in body]
    return body


def incomplete(activity: Activity) -> str | None:
    """Why an activity cannot be handled (None when it can): an answer goes to its
    `serviceUrl` and `conversation`, and `from` says who acts."""
    missing = [
        name
        for name, present in (
            ("serviceUrl", bool(activity.service_url)),
            ("conversation.id", bool(activity.conversation and activity.conversation.id)),
            ("from.id", bool(activity.from_property and activity.from_property.id)),
        )
        if not present
    ]
    return f"Activity has no {', no '.join(missing)}" if missing else None


def _refused(error: type[web.HTTPClientError], why: str) -> web.HTTPClientError:
    """A 4xx for a request that never reaches authentication, logged on one line."""
    logger.warning("Teams: request refused (%s): %s", error.status_code, why)
    return error(text=why)


CLIENTS_KEPT = 64  # connector clients kept (one per app id, service URL and audience)


class ReusedConnectors(ConnectorFactory):
    """A ConnectorFactory handing out one client per (app id, service URL, audience),
    shared by every turn and proactive message that has the same ones."""

    def __init__(self, inner: ConnectorFactory, app_id: str | None, clients: dict[tuple[Any, ...], ConnectorClient]):
        self.inner = inner
        self.app_id = app_id
        self.clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self.app_id, service_url, audience)
        client = self.clients.get(key)
        if client is None:
            client = await self.inner.create(service_url, audience)
            if len(self.clients) >= CLIENTS_KEPT:
                self.clients.clear()
            self.clients[key] = client
        return client


def _app_id(claims_identity: ClaimsIdentity | None) -> str | None:
    claims = getattr(claims_identity, "claims", None) or {}
    return claims.get(AuthenticationConstants.AUDIENCE_CLAIM)


class ReusedClientsAuthentication(ConfigurationBotFrameworkAuthentication):
    """Bot Framework authentication whose connector factories reuse connector clients
    and whose user-token client is made once per app id (see module doc)."""

    def __init__(self, config: BotConfig):
        super().__init__(config)
        self._clients: dict[tuple[Any, ...], ConnectorClient] = {}
        self._token_clients: dict[str | None, UserTokenClient] = {}

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = ReusedConnectors(
                result.connector_factory, _app_id(result.claims_identity), self._clients
            )
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return ReusedConnectors(
            super().create_connector_factory(claims_identity), _app_id(claims_identity), self._clients
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        if key not in self._token_clients:
            self._token_clients[key] = await super().create_user_token_client(claims_identity)
        return self._token_clients[key]


class GovbotCloudAdapter(CloudAdapter):
    """CloudAdapter with a `process` that answers invokes with their body (see module doc)."""

    def __init__(self, config: BotConfig):
        super().__init__(ReusedClientsAuthentication(config))
        self.app_id = config.APP_ID

    async def process(self, request: web.Request, bot: Bot, ws_response: Any = None) -> web.Response:
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise _refused(web.HTTPUnsupportedMediaType, "Content-Type must be application/json")
        try:
            body = load_json(await request.read())
        except Malformed as exc:
            raise _refused(web.HTTPBadRequest, str(exc)) from None
        if not isinstance(body, dict):
            raise _refused(web.HTTPBadRequest, "body must be a JSON object (an Activity)")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # msrest raises DeserializationError and friends
            raise _refused(web.HTTPBadRequest, "body is not a valid Activity") from None
        if not activity.type:
            raise _refused(web.HTTPBadRequest, "Activity has no type")
        problem = incomplete(activity)
        if problem:  # nothing to answer to, or nobody who asked: refused like a malformed Slack payload
            raise _refused(web.HTTPBadRequest, problem)

        auth_header = request.headers.get("Authorization", "")
        try:
            auth = await self.bot_framework_authentication.authenticate_request(activity, auth_header)
        except PermissionError:
            logger.info("Teams: refused an unauthenticated request (%s)", activity.type)
            raise web.HTTPUnauthorized() from None

        invoke_response: InvokeResponse | None = await self.process_activity(auth, activity, bot.on_turn)
        if invoke_response is None:
            return web.Response(status=201)
        status = int(invoke_response.status or 200)
        data = _json_body(invoke_response.body)
        if data is None:
            return web.Response(status=status)
        return web.json_response(data=data, status=status)

    def _create_turn_context(
        self, activity, claims_identity, oauth_scope, connector_client, user_token_client, logic, connector_factory
    ) -> TurnContext:
        if connector_client is not None:
            switch_off_retries(connector_client)
        return super()._create_turn_context(
            activity, claims_identity, oauth_scope, connector_client, user_token_client, logic, connector_factory
        )


def build_adapter(settings: Any) -> GovbotCloudAdapter:
    """The adapter for `settings`; raises TeamsConfigError naming what is missing."""
    adapter = GovbotCloudAdapter(bot_config(settings))

    async def on_error(context: TurnContext, error: Exception) -> None:
        logger.exception("Teams: turn failed for %s activity", context.activity.type, exc_info=error)
        if context.activity.type == "message":
            try:
                await context.send_activity("Sorry, something went wrong on my side; please try again.")
            except Exception:  # the connector itself may be what failed
                logger.warning("Teams: could not tell the user about the failure")

    adapter.on_turn_error = on_error
    return adapter
