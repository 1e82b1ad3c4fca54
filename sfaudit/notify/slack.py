"""Slack (a built-in plugin): an incoming webhook, with Block Kit blocks and a plain-text
fallback ``text`` (what notifications and old clients show).

Slack answers ``200 ok``; anything else (``400 invalid_blocks``, ``404 no_service``)
is a failed delivery. Org text is escaped, so a name can never ``<!channel>``.
"""

from __future__ import annotations

from typing import Any

from ..config import NotifyConfig
from ..hookspecs import hookimpl
from .model import Message, Notifier
from .transport import Transport

HEADER_MAX = 150
"""Slack's limit for a header block's text."""
SECTION_MAX = 3000
"""Slack's limit for a section block's text."""
MAX_BLOCKS = 50
"""Slack's limit of blocks per message."""
VERDICT_EMOJI = {"ready": ":white_check_mark:", "not-ready": ":x:", "incomplete": ":warning:"}


def escape(text: str) -> str:
    """Slack mrkdwn treats ``&``, ``<`` and ``>`` as markup: escape them."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(url: str, words: str) -> str:
    return f"<{escape(url)}|{escape(words)}>"


def payload(message: Message) -> dict[str, Any]:
    """The webhook's JSON body: ``text`` (fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cap(message.title, HEADER_MAX)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _cap(escape(message.summary), SECTION_MAX)},
        },
    ]
    room = MAX_BLOCKS - 3
    for n, org in enumerate(message.orgs):
        if n == room - 1 and len(message.orgs) > room:
            rest = len(message.orgs) - n
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"… +{rest}"}})
            break
        icon = VERDICT_EMOJI.get(org.verdict, "")
        lines = [f"{icon} *{escape(org.name)}*: {escape(org.verdict_label)}"]
        deadline = message.deadline_words(org)
        if deadline:
            lines.append(escape(deadline))
        if org.error:
            lines.append(f"_{escape(org.error)}_")
        for check in org.blocking:
            lines.append(f"• {escape(message.check_words(check))}")
            lines.extend(f"    ◦ {escape(d)}" for d in org.details.get(check.id, ()))
        hidden = message.hidden_words(org)
        if hidden:
            lines.append(f"_({escape(hidden)})_")
        if org.link and org.link != message.link:
            lines.append(_link(org.link, message.gettext("Open the report")))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cap("\n".join(lines), SECTION_MAX)},
            }
        )
    if message.link:
        blocks.append(
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _link(message.link, message.gettext("Open the report")),
                    }
                ],
            }
        )
    return {"text": _cap(message.text(), 3000), "blocks": blocks}


def send(message: Message, channel: NotifyConfig, transport: Transport) -> str:
    answer, attempts, _ = transport.post_json(channel, payload(message))
    return f"HTTP {answer.status_code}" + (f" after {attempts} attempts" if attempts > 1 else "")


@hookimpl
def sfaudit_register_notifiers() -> list[Notifier]:
    return [Notifier("slack", send, ("url",), "Slack incoming webhook (Block Kit)")]
