"""A generic JSON webhook (a built-in plugin): the roll-up as ``fleet.json`` has it, plus
a summary, POSTed to any URL that answers 2xx.

The body (``schema_version`` 1)::

    {"schema_version": 1, "kind": "sfaudit.notification", "sample": false,
     "title": "...", "text": "...plain-text message...", "verdict": "not-ready",
     "exit_code": 1, "changed": false, "events": ["always", "not-ready"],
     "report_url": "https://...", "rollup": {...fleet.json...}}

Each org's ``blocking`` list in ``rollup`` is the channel's (``min_severity``
applied; ``hidden_blocking`` counts the rest) and, with ``details: true``, each
blocking check carries ``details``: its findings in words.
"""

from __future__ import annotations

from typing import Any

from ..config import NotifyConfig
from ..hookspecs import hookimpl
from .model import Message, Notifier
from .transport import Transport

PAYLOAD_VERSION = 1


def payload(message: Message) -> dict[str, Any]:
    notification = message.notification
    rollup = notification.rollup.to_dict()
    lines = {org.name: org for org in message.orgs}
    for org in rollup["orgs"]:
        line = lines[org["name"]]
        shown = {b.id for b in line.blocking}
        org["blocking"] = [b for b in org["blocking"] if b["id"] in shown]
        org["hidden_blocking"] = line.hidden
        org["report"] = line.link
        if message.channel.details:
            for b in org["blocking"]:
                b["details"] = list(line.details.get(b["id"], ()))
    return {
        "schema_version": PAYLOAD_VERSION,
        "kind": "sfaudit.notification",
        "sample": notification.sample,
        "title": message.title,
        "text": message.text(),
        "verdict": notification.rollup.verdict,
        "exit_code": notification.rollup.exit_code,
        "changed": message.changed,
        "events": sorted(notification.events(message.channel.min_severity)),
        "report_url": message.link,
        "rollup": rollup,
    }


def send(message: Message, channel: NotifyConfig, transport: Transport) -> str:
    answer, attempts, _ = transport.post_json(channel, payload(message))
    return f"HTTP {answer.status_code}" + (f" after {attempts} attempts" if attempts > 1 else "")


@hookimpl
def sfaudit_register_notifiers() -> list[Notifier]:
    return [Notifier("webhook", send, ("url",), "JSON POST of the roll-up and a summary")]
