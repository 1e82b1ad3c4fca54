"""E-mail (a built-in plugin): SMTP with STARTTLS (``starttls: true``, the default), a
plain-text body and an HTML alternative.

A login (``username``/``password``) needs STARTTLS: a password never travels in
clear. The server's certificate is verified against the system's CAs (or
``SSL_CERT_FILE``).
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..config import NotifyConfig
from ..hookspecs import hookimpl
from .model import Message, Notifier
from .transport import Transport


def mail(message: Message, channel: NotifyConfig) -> EmailMessage:
    """The e-mail: subject, plain text and an HTML part."""
    out = EmailMessage()
    out["Subject"] = message.title
    out["From"] = channel.sender or ""
    out["To"] = ", ".join(channel.to)
    out["Date"] = formatdate(localtime=False, usegmt=True)
    out["Message-ID"] = make_msgid(domain=(channel.sender or "sfaudit").rpartition("@")[2] or None)
    out.set_content(message.text())
    out.add_alternative(_html(message), subtype="html")
    return out


def _html(message: Message) -> str:
    e = html.escape
    parts = [f"<h2>{e(message.title)}</h2>", f"<p>{e(message.summary)}</p>"]
    for org in message.orgs:
        parts.append(f"<h3>{e(org.name)}: {e(org.verdict_label)}</h3>")
        deadline = message.deadline_words(org)
        if deadline:
            parts.append(f"<p>{e(deadline)}</p>")
        if org.error:
            parts.append(f"<p><em>{e(org.error)}</em></p>")
        if org.blocking:
            parts.append("<ul>")
            for check in org.blocking:
                details = org.details.get(check.id, ())
                inner = "".join(f"<li>{e(d)}</li>" for d in details)
                parts.append(
                    f"<li>{e(message.check_words(check))}"
                    + (f"<ul>{inner}</ul>" if inner else "")
                    + "</li>"
                )
            parts.append("</ul>")
        hidden = message.hidden_words(org)
        if hidden:
            parts.append(f"<p><small>{e(hidden)}</small></p>")
        if org.link and org.link != message.link:
            parts.append(
                f'<p><a href="{e(org.link)}">{e(message.gettext("Open the report"))}</a></p>'
            )
    if message.link:
        parts.append(
            f'<p><a href="{e(message.link)}">{e(message.gettext("Open the report"))}</a></p>'
        )
    return "<!doctype html><html><body>" + "\n".join(parts) + "</body></html>"


def send(message: Message, channel: NotifyConfig, transport: Transport) -> str:
    attempts, _ = transport.send_mail(channel, mail(message, channel))
    n = len(channel.to)
    return f"mailed {n} recipient{'s' if n != 1 else ''}" + (
        f" after {attempts} attempts" if attempts > 1 else ""
    )


def _validate(channel: NotifyConfig) -> tuple[str, str, str | None] | None:
    if (channel.username or channel.password) and not channel.starttls:
        return (
            "starttls",
            "an SMTP login needs starttls: true (the password would travel in clear)",
            "set starttls: true, or drop username and password for an open relay",
        )
    if channel.password and not channel.username:
        return ("username", "a password needs a username", "add username: to this channel")
    for address in [channel.sender or "", *channel.to]:
        if "@" not in address:
            return (
                "to" if address in channel.to else "from",
                f"{address!r} is not an e-mail address",
                None,
            )
    return None


@hookimpl
def sfaudit_register_notifiers() -> list[Notifier]:
    return [
        Notifier(
            "email",
            send,
            ("host", "from", "to"),
            "E-mail over SMTP with STARTTLS",
            validate=_validate,
        )
    ]
