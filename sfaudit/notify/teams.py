"""Microsoft Teams (a built-in plugin): a Workflows webhook ("When a Teams webhook request
is received"), posted a message with one Adaptive Card attachment.

The workflow answers ``202 Accepted``. Version 1.4 of the card schema is used, the
highest every Teams client renders.
"""

from __future__ import annotations

from typing import Any

from ..config import NotifyConfig
from ..hookspecs import hookimpl
from .model import Message, Notifier
from .transport import Transport

CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
VERDICT_COLOR = {"ready": "Good", "not-ready": "Attention", "incomplete": "Warning"}
MAX_ORGS = 40


def card(message: Message) -> dict[str, Any]:
    """The Adaptive Card."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": message.title,
            "size": "Large",
            "weight": "Bolder",
            "color": VERDICT_COLOR.get(message.verdict, "Default"),
            "wrap": True,
        },
        {"type": "TextBlock", "text": message.summary, "isSubtle": True, "wrap": True},
    ]
    for org in message.orgs[:MAX_ORGS]:
        items: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": f"{org.name}: {org.verdict_label}",
                "weight": "Bolder",
                "color": VERDICT_COLOR.get(org.verdict, "Default"),
                "wrap": True,
            }
        ]
        facts = []
        deadline = message.deadline_words(org)
        if deadline:
            facts.append({"title": message.gettext("Notice deadline"), "value": deadline})
        if org.error:
            facts.append({"title": message.gettext("Audit error"), "value": org.error})
        for check in org.blocking:
            value = message.check_words(check).removeprefix(check.title).lstrip(" ")
            facts.append({"title": check.title, "value": value})
        if facts:
            items.append({"type": "FactSet", "facts": facts})
        for check in org.blocking:
            details = org.details.get(check.id, ())
            if details:
                items.append(
                    {
                        "type": "TextBlock",
                        "text": "\n".join(f"- {d}" for d in details),
                        "wrap": True,
                        "size": "Small",
                    }
                )
        hidden = message.hidden_words(org)
        if hidden:
            items.append({"type": "TextBlock", "text": hidden, "isSubtle": True, "wrap": True})
        if org.link and org.link != message.link:
            items.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": message.gettext("Open the report"),
                            "url": org.link,
                        }
                    ],
                }
            )
        body.append({"type": "Container", "separator": True, "items": items})
    if len(message.orgs) > MAX_ORGS:
        body.append(
            {"type": "TextBlock", "text": f"… +{len(message.orgs) - MAX_ORGS}", "wrap": True}
        )
    out: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if message.link:
        out["actions"] = [
            {
                "type": "Action.OpenUrl",
                "title": message.gettext("Open the report"),
                "url": message.link,
            }
        ]
    return out


def payload(message: Message) -> dict[str, Any]:
    """The webhook's JSON body: a message with the card as its one attachment."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": CONTENT_TYPE, "contentUrl": None, "content": card(message)}
        ],
    }


def send(message: Message, channel: NotifyConfig, transport: Transport) -> str:
    answer, attempts, _ = transport.post_json(channel, payload(message))
    return f"HTTP {answer.status_code}" + (f" after {attempts} attempts" if attempts > 1 else "")


@hookimpl
def sfaudit_register_notifiers() -> list[Notifier]:
    return [Notifier("teams", send, ("url",), "Microsoft Teams Workflows webhook (Adaptive Card)")]
