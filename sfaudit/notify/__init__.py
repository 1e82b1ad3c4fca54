"""Notifications: tell Slack, Teams, a webhook or a mailbox how the audit went.

Every message is built from a :class:`~sfaudit.rollup.Rollup`: one row for
``sfaudit run`` (:meth:`Notification.of_report`), one per org for a fleet. A fleet
calls :func:`notify` once, so each channel gets one roll-up message::

    from sfaudit.notify import Notification, notify

    note = Notification(rollup, baseline=old_rollup, report_url="https://ci.example/fleet/")
    for delivery in notify(plugin_manager, note, config, channels=fleet_channels):
        if not delivery.ok:
            print("warning:", delivery.line(), file=sys.stderr)

A channel that fails is a :class:`Delivery` with status ``failed``: never an
exception, never a change of verdict or exit code, and the other channels still go
out. The notifier types (``slack``, ``teams``, ``webhook``, ``email``) are built-in
plugins (``sfaudit_register_notifiers``); a plugin adds its own the same way, or
implements ``sfaudit_notify`` to be told itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from .._redact import redact
from ..rollup import BlockingCheck, OrgRow, Rollup
from .model import Delivery, DeliveryError, Message, Notification, Notifier, build_message
from .transport import Transport

if TYPE_CHECKING:
    from ..config import Config, NotifyConfig
    from ..plugins import PluginManager


def send(
    notification: Notification,
    channels: Sequence[NotifyConfig],
    notifiers: Mapping[str, Notifier],
    *,
    transport: Transport | None = None,
) -> list[Delivery]:
    """Tell every channel whose ``on:`` matches (all of them for a sample), each on its own.

    :param notifiers: the notifier types by name (``PluginManager.collect_notifiers()``).
    :return: one :class:`Delivery` per channel, in order; failures included, never raised.
    """
    transport = transport or Transport()
    out = []
    for i, channel in enumerate(channels):
        label = channel.label(i)
        notifier = notifiers.get(channel.type)
        if notifier is None:
            out.append(Delivery(label, channel.type, "failed", f"unknown type {channel.type!r}"))
            continue
        if not notification.triggers(channel):
            on = ", ".join(channel.on)
            out.append(Delivery(label, channel.type, "skipped", f"on: [{on}] did not match"))
            continue
        try:
            message = build_message(notification, channel)
            detail = notifier.send(message, channel, transport)
            out.append(
                Delivery(label, channel.type, "sent", redact(str(detail), channel.secrets()))
            )
        except DeliveryError as exc:
            out.append(
                Delivery(
                    label,
                    channel.type,
                    "failed",
                    redact(str(exc), channel.secrets()),
                    attempts=exc.attempts,
                    waits=exc.waits,
                )
            )
        except Exception as exc:  # a notifier's bug never stops the other channels
            words = redact(f"{type(exc).__name__}: {exc}", channel.secrets())
            out.append(Delivery(label, channel.type, "failed", words))
    return out


def notify(
    pm: PluginManager,
    notification: Notification,
    config: Config,
    *,
    channels: Sequence[NotifyConfig] | None = None,
    transport: Transport | None = None,
) -> list[Delivery]:
    """Send ``notification`` to ``channels`` (default: ``config.notify``), then call the
    plugins' ``sfaudit_notify``. A plugin that raises becomes a failed delivery.

    :return: every channel's delivery, then what the plugins returned.
    """
    chosen = config.notify if channels is None else channels
    deliveries = send(notification, chosen, pm.collect_notifiers(), transport=transport)
    before = len(pm.problems)
    for plugin, result in pm.collect("sfaudit_notify", report=notification, config=config):
        for item in result or ():
            if isinstance(item, Delivery):
                deliveries.append(item)
            else:
                deliveries.append(
                    Delivery(
                        plugin,
                        "plugin",
                        "failed",
                        f"returned {type(item).__name__}, not a Delivery",
                    )
                )
    for problem in pm.problems[before:]:
        deliveries.append(Delivery("plugin", "plugin", "failed", redact(problem)))
    del pm.problems[before:]
    return deliveries


def sample_notification(report_url: str | None = None, lang: str = "en") -> Notification:
    """What ``sfaudit notify --test`` sends: a made-up org, not ready, with two blocking checks."""
    row = OrgRow(
        name="sample-org",
        verdict="not-ready",
        exit_code=1,
        org={"name": "Sample Org", "id": "00D000000000000EAA"},
        blocking=(
            BlockingCheck("active-users", "Active users remain", "high", "fail", 4),
            BlockingCheck(
                "backup-completeness", "The Data Export is complete", "critical", "fail", 2
            ),
        ),
        deadline="2027-01-01",
        days_left=30,
        report="readiness.html",
    )
    return Notification(Rollup([row]), report_url=report_url, lang=lang, sample=True)


def warn_failures(deliveries: Sequence[Delivery], echo: Callable[[str], None]) -> None:
    """Print a warning per failed delivery (``echo`` writes to stderr)."""
    for delivery in deliveries:
        if not delivery.ok:
            echo(f"warning: notification not sent: {delivery.line()}")


__all__ = [
    "Delivery",
    "DeliveryError",
    "Message",
    "Notification",
    "Notifier",
    "Transport",
    "build_message",
    "notify",
    "sample_notification",
    "send",
    "warn_failures",
]
