"""The Teams bot: translates activities into core calls and renders the answers as cards.

- Every inbound activity stores the sender's conversation reference (proactive
  messages need it).
- Typed text (bot @mention stripped) goes to `core.handle_command`.
- Card buttons arrive as `adaptiveCard/action` invokes (Action.Execute) or, from older
  clients, as message activities whose `value` carries the verb (Action.Submit
  fallback); both go through `TeamsActions.run`, whose answer is the updated card.

The core is synchronous, so every core call runs in a worker thread.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from botbuilder.core import ActivityHandler, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, ChannelAccount

from handlers.base import core_call
from handlers.teams import cards, incidents
from handlers.teams.actions import TeamsActions

logger = logging.getLogger(__name__)

_AT_TAG = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
PERSONAL = "personal"
FILE_DOWNLOAD = "application/vnd.microsoft.teams.file.download.info"


def mentioned_people(activity: Activity) -> list[tuple[str, str, str]]:
    """(id, name, the `<at>` text) of each person the message mentions, the bot left out."""
    bot_id = activity.recipient.id if activity.recipient else None
    out = []
    for entity in activity.entities or ():
        data = entity if isinstance(entity, dict) else (entity.serialize() if hasattr(entity, "serialize") else {})
        props = {**data, **(getattr(entity, "additional_properties", None) or {})}
        if props.get("type") != "mention":
            continue
        mentioned = props.get("mentioned") or {}
        uid, name = str(mentioned.get("id") or ""), str(mentioned.get("name") or "")
        if uid and uid != bot_id:
            out.append((uid, name, str(props.get("text") or "")))
    return out


def command_text(activity: Activity) -> str:
    """The typed command without the bot's @mention (Teams puts `<at>Bot</at>` in the text);
    a person mentioned in it becomes `<@id>`, how commands name users. A pasted candidate
    policy (`policy what-if <TOML>`) keeps its lines."""
    text = activity.text or ""
    for uid, _name, tag in mentioned_people(activity):
        if tag and tag in text:
            text = text.replace(tag, f" <@{uid}> ", 1)
    text = _AT_TAG.sub(" ", text).replace("&nbsp;", " ")
    if [w.lower() for w in text.split(None, 2)[:2]] == ["policy", "what-if"]:
        return text.strip()
    return " ".join(text.split())


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread's id without `;messageid=...`: posting there starts a new thread."""
    return conversation_id.split(";messageid=", 1)[0]


def shown_message(activity: Activity) -> dict[str, Any] | None:
    """The message a card action came from, as the Teams sender stores its reference
    ({"conversation_id", "activity_id"}): the answer replaces that message."""
    if not activity.reply_to_id or not activity.conversation or not activity.conversation.id:
        return None
    return {"conversation_id": base_conversation_id(activity.conversation.id), "activity_id": activity.reply_to_id}


def card_activity(card: dict[str, Any], text: str | None = None) -> Activity:
    activity = MessageFactory.attachment(cards.attachment(card))
    if text:
        activity.summary = cards.summary(text)
    return activity


def _progress(turn_context: TurnContext) -> Any:
    """Post a card in the conversation at once (e.g. "reading your description…")."""

    async def post(card: dict[str, Any]) -> None:
        await turn_context.send_activity(card_activity(card))

    return post


def policy_upload(activity: Activity) -> str | None:
    """The download URL of a .toml file attached to the message (Teams file consent
    gives the bot a pre-authenticated `downloadUrl`), or None."""
    for attachment in activity.attachments or ():
        content = attachment.content if isinstance(attachment.content, dict) else {}
        url = content.get("downloadUrl")
        name = str(attachment.name or "")
        if attachment.content_type == FILE_DOWNLOAD and isinstance(url, str) and name.lower().endswith(".toml"):
            return url
    return None


class GovbotTeamsBot(ActivityHandler):
    """`ActivityHandler` for govbot; `actions` holds the card verbs (shared with tests)."""

    def __init__(self, core: Any, settings: Any):
        self.core = core
        self.settings = settings
        self.actions = TeamsActions(core, settings)
        self._names: dict[str, str] = {}  # names already handed to the core in this process

    # ------------------------------------------------------------------ every activity
    async def on_turn(self, turn_context: TurnContext) -> None:
        try:
            await self.remember(turn_context.activity)
        except Exception:  # a failed write must not cost the user their answer
            logger.exception("Teams: could not store the conversation reference")
        try:
            await self.remember_names(turn_context.activity)
        except Exception:  # a name is a nicety
            logger.exception("Teams: could not store a display name")
        await super().on_turn(turn_context)

    async def remember_names(self, activity: Activity) -> None:
        """The sender's name (`from.name`) and the names of people mentioned, for the core."""
        people = []
        sender = activity.from_property
        if sender and sender.id and sender.name and not (activity.recipient and sender.id == activity.recipient.id):
            people.append((sender.id, sender.name))
        people += [(uid, name) for uid, name, _tag in mentioned_people(activity) if name]
        for uid, name in people:
            if self._names.get(uid) == name:
                continue
            await core_call(self.core.remember_person, "teams", uid, name)
            if len(self._names) > 20_000:
                self._names.clear()
            self._names[uid] = name

    async def remember(self, activity: Activity) -> None:
        """Store the conversation reference. A personal chat is the user's address for
        proactive messages; a channel or group chat is stored under its own id (digest
        posts), never as a user's address, so approval cards do not land in a channel."""
        user = activity.from_property.id if activity.from_property else None
        conversation = activity.conversation
        if not user or not conversation or not conversation.id:
            return
        if activity.recipient and user == activity.recipient.id:
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        reference.pop("activityId", None)
        conversation_id = base_conversation_id(conversation.id)
        reference["conversation"]["id"] = conversation_id
        kind = (conversation.conversation_type or PERSONAL).lower()
        if kind == PERSONAL:
            await core_call(self.core.remember_conversation, "teams", user, conversation_id, reference)
        # Also under the conversation's own id, for posts addressed to it (`digest here`).
        await core_call(self.core.remember_conversation, "teams", conversation_id, conversation_id, reference)

    # ------------------------------------------------------------------ messages
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        actor = activity.from_property.id
        value = activity.value if isinstance(activity.value, dict) else None
        progress = _progress(turn_context)
        if value and value.get("verb"):  # Action.Submit fallback of an Action.Execute button
            card = await self.actions.run(actor, str(value["verb"]), value, shown_message(activity), progress)
            await self._show(turn_context, card, replace=activity.reply_to_id)
            return
        text = command_text(activity) or "help"
        upload = policy_upload(activity) if text.split(None, 1)[0].lower() == "policy" else None
        if upload is not None:  # a candidate policy attached as a file
            card = await self.actions.policy_file(actor, upload)
            await turn_context.send_activity(card_activity(card))
            return
        card = await self.actions.command(actor, text, base_conversation_id(activity.conversation.id), progress)
        await turn_context.send_activity(card_activity(card))

    async def _show(self, turn_context: TurnContext, card: dict[str, Any], replace: str | None) -> None:
        activity = card_activity(card)
        if replace:
            activity.id = replace
            try:
                await turn_context.update_activity(activity)
                return
            except Exception:  # the original may be gone; post the card instead
                logger.warning("Teams: could not update card %s; posting a new one", replace)
                activity.id = None
        await turn_context.send_activity(activity)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_added or ()):
            help_message = await core_call(self.core.help)
            await turn_context.send_activity(card_activity(cards.message_card(help_message)))

    async def on_installation_update_activity(self, turn_context: TurnContext) -> None:
        return None  # the reference was stored in on_turn

    # ------------------------------------------------------------------ message action
    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """ "Report an AI incident" on a message (`handlers.teams.incidents`); every other
        invoke as botbuilder handles it (Action.Execute)."""
        activity = turn_context.activity
        if activity.name in (incidents.FETCH, incidents.SUBMIT):
            value = activity.value if isinstance(activity.value, dict) else {}
            if value.get("commandId") == incidents.COMMAND:
                if activity.name == incidents.FETCH:
                    body = incidents.fetch_task(value)
                else:
                    body = await incidents.submit_action(self.core, activity.from_property.id, value)
                return InvokeResponse(status=200, body=body)
        return await super().on_invoke_activity(turn_context)

    # ------------------------------------------------------------------ Action.Execute
    def _get_adaptive_card_invoke_value(self, activity: Activity) -> AdaptiveCardInvokeValue:
        # Teams adds keys (e.g. "trigger") the 4.17.1 model does not know; msrest would
        # log a warning for each click.
        if isinstance(activity.value, dict):
            activity.value = {k: v for k, v in activity.value.items() if k in ("action", "authentication", "state")}
        return super()._get_adaptive_card_invoke_value(activity)

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        action = invoke_value.action
        verb = getattr(action, "verb", None) or (action.get("verb") if isinstance(action, dict) else None)
        data = getattr(action, "data", None) if not isinstance(action, dict) else action.get("data")
        actor = turn_context.activity.from_property.id
        shown = shown_message(turn_context.activity)
        card = await self.actions.run(
            actor, str(verb or ""), data if isinstance(data, dict) else {}, shown, _progress(turn_context)
        )
        return AdaptiveCardInvokeResponse(status_code=200, type=cards.CARD_CONTENT_TYPE, value=card)
