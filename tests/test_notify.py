"""Notifications over real servers: a local HTTP server receives the Slack, Teams and
webhook posts and checks them against the documented payload shapes; an aiosmtpd
server with STARTTLS (a trustme certificate) receives the mail."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from click.testing import Result
from slack_sdk.models.blocks import Block

from sfaudit import hookimpl
from sfaudit.audit import Audit
from sfaudit.config import load_config
from sfaudit.errors import ConfigError
from sfaudit.notify import (
    Delivery,
    Notification,
    Notifier,
    Transport,
    sample_notification,
    send,
)
from sfaudit.plugins import get_plugin_manager
from sfaudit.rollup import BlockingCheck, OrgRow, Rollup
from sfaudit.testing import OrgBuilder
from tests.notify_servers import Hooks

# --- an SMTP server with STARTTLS -------------------------------------------------


@dataclass
class Mailbox:
    port: int
    ca_file: str
    messages: list[Envelope] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    tls_seen: list[bool] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    box = Mailbox(port=_free_port(), ca_file=str(ca_file))

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
            box.tls_seen.append(session.ssl is not None)
            box.messages.append(envelope)
            return "250 OK"

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login, password = data.login.decode(), data.password.decode()
        box.logins.append((login, password))
        return AuthResult(
            success=(login, password) == ("ops-bot", "s3cret-smtp-pass"), handled=False
        )

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=server_ctx,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


# --- payload shapes ---------------------------------------------------------------


def assert_slack_shape(body: Any) -> None:
    """Slack's incoming-webhook body: a fallback ``text`` and Block Kit ``blocks``,
    each parsed and validated by Slack's own SDK, with nothing it does not know."""
    assert set(body) == {"text", "blocks"}
    assert isinstance(body["text"], str) and body["text"].strip()
    assert 1 <= len(body["blocks"]) <= 50
    for raw in body["blocks"]:
        assert raw["type"] in {"header", "section", "context", "divider"}
        block = Block.parse(raw)
        assert block is not None
        block.validate_json()  # raises on Slack's limits (header 150, section 3000, ...)
        assert block.to_dict() == raw, "a key Slack's Block Kit does not define"
        if raw["type"] == "header":
            assert raw["text"]["type"] == "plain_text"
        if raw["type"] == "section":
            assert raw["text"]["type"] in {"mrkdwn", "plain_text"}
        if raw["type"] == "context":
            assert 1 <= len(raw["elements"]) <= 10
            assert all(e["type"] in {"mrkdwn", "plain_text"} for e in raw["elements"])


_TEXT = {"type": "string", "minLength": 1}
ADAPTIVE_CARD_MESSAGE = {
    "type": "object",
    "required": ["type", "attachments"],
    "additionalProperties": False,
    "properties": {
        "type": {"const": "message"},
        "attachments": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
                "type": "object",
                "required": ["contentType", "content"],
                "additionalProperties": False,
                "properties": {
                    "contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                    "contentUrl": {"type": "null"},
                    "content": {"$ref": "#/$defs/card"},
                },
            },
        },
    },
    "$defs": {
        "card": {
            "type": "object",
            "required": ["type", "version", "body"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "AdaptiveCard"},
                "$schema": {"const": "http://adaptivecards.io/schemas/adaptive-card.json"},
                "version": {"enum": ["1.0", "1.1", "1.2", "1.3", "1.4", "1.5"]},
                "body": {"type": "array", "items": {"$ref": "#/$defs/element"}},
                "actions": {"type": "array", "items": {"$ref": "#/$defs/openUrl"}},
                "msteams": {"type": "object", "properties": {"width": {"enum": ["Full"]}}},
            },
        },
        "element": {
            "oneOf": [
                {"$ref": "#/$defs/textBlock"},
                {"$ref": "#/$defs/factSet"},
                {"$ref": "#/$defs/container"},
                {"$ref": "#/$defs/actionSet"},
            ]
        },
        "textBlock": {
            "type": "object",
            "required": ["type", "text"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "TextBlock"},
                "text": _TEXT,
                "wrap": {"type": "boolean"},
                "isSubtle": {"type": "boolean"},
                "size": {"enum": ["Default", "Small", "Medium", "Large", "ExtraLarge"]},
                "weight": {"enum": ["Default", "Lighter", "Bolder"]},
                "color": {
                    "enum": ["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]
                },
            },
        },
        "factSet": {
            "type": "object",
            "required": ["type", "facts"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "FactSet"},
                "facts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "value"],
                        "additionalProperties": False,
                        "properties": {"title": _TEXT, "value": _TEXT},
                    },
                },
            },
        },
        "container": {
            "type": "object",
            "required": ["type", "items"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Container"},
                "separator": {"type": "boolean"},
                "items": {"type": "array", "items": {"$ref": "#/$defs/element"}},
            },
        },
        "actionSet": {
            "type": "object",
            "required": ["type", "actions"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "ActionSet"},
                "actions": {"type": "array", "items": {"$ref": "#/$defs/openUrl"}},
            },
        },
        "openUrl": {
            "type": "object",
            "required": ["type", "url"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "Action.OpenUrl"},
                "title": _TEXT,
                "url": {"type": "string", "pattern": "^https?://"},
            },
        },
    },
}


def assert_teams_shape(body: Any) -> None:
    """A Teams Workflows message: one Adaptive Card attachment, its elements as the
    Adaptive Card schema names them (TextBlock, FactSet, Container, ActionSet,
    Action.OpenUrl), nothing else."""
    jsonschema.validate(body, ADAPTIVE_CARD_MESSAGE)


def card_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [
            v for k, v in node.items() if k in ("text", "title", "value") and isinstance(v, str)
        ] + [t for v in node.values() for t in card_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in card_texts(v)]
    return []


# --- an audit to notify about -----------------------------------------------------


def org() -> OrgBuilder:
    b = OrgBuilder(org_id="00D5g000000NOTEEA2", name="Acme Notify")
    admin = b.user("admin@acme.example", profile="System Administrator", admin=True)
    b.user("jane.doe@acme.example", last_login="2026-11-20T09:00:00Z")
    b.user("gone@acme.example", active=False)
    b.license("Salesforce", 10)
    b.object("Account", 10, ownable=True).own("Account", admin, 10)
    return b


def audit_config(tmp_path: Path, notify_yaml: str, extra: str = "") -> Path:
    snap = org().write(tmp_path / "org.json")
    text = textwrap.dedent(
        f"""\
        version: 1
        today: 2026-11-26
        org: {{source: "snapshot:{snap}"}}
        contract: {{start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}}
        checks:
          active-users: {{severity: high}}
          notice-deadline: {{severity: critical}}
        report: {{formats: [json, md], output: out, url: "https://reports.example/acme/"}}
        """
    )
    path = tmp_path / "audit.yaml"
    path.write_text(
        text + extra + "notify:\n" + textwrap.indent(textwrap.dedent(notify_yaml), "  ")
    )
    return path


def run_cli(cli: Callable[..., Result], config: Path, *args: str) -> Result:
    return cli("run", "-c", config, "--select", "active-users,notice-deadline", *args)


# --- the channels -----------------------------------------------------------------


def test_run_tells_slack_teams_webhook_and_email_one_message_each(
    tmp_path: Path, hooks: Hooks, mailbox: Mailbox, cli: Callable[..., Result]
) -> None:
    config = audit_config(
        tmp_path,
        f"""\
        - type: slack
          url: {hooks.url}/slack
        - type: teams
          url: {hooks.url}/teams
        - type: webhook
          url: {hooks.url}/hook
        - type: email
          host: 127.0.0.1
          port: {mailbox.port}
          from: sfaudit@acme.example
          to: [ops@acme.example, cfo@acme.example]
          username: ops-bot
          password: s3cret-smtp-pass
        """,
    )
    result = run_cli(cli, config)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verdict"] == "not-ready"
    assert result.exit_code == report["exit_code"] == 1, result.output
    assert "warning" not in result.output

    (slack,) = hooks.bodies("/slack")
    assert_slack_shape(slack)
    slack_text = json.dumps(slack)
    assert "Acme Notify" in slack["blocks"][0]["text"]["text"]
    assert "Not ready to cancel" in slack["text"]
    report_titles = [c["title"] for c in report["checks"] if c["id"] in report["blocking"]]
    assert report_titles and all(t in slack_text for t in report_titles)
    assert "36 days left to give notice" in slack_text
    assert "https://reports.example/acme/" in slack_text

    (teams,) = hooks.bodies("/teams")
    assert_teams_shape(teams)
    card = teams["attachments"][0]["content"]
    assert card["actions"][0]["url"] == "https://reports.example/acme/"
    texts = card_texts(card)
    assert any("36 days left to give notice" in t for t in texts)

    (hook,) = hooks.bodies("/hook")
    assert hook["schema_version"] == 1 and hook["kind"] == "sfaudit.notification"
    assert hook["verdict"] == "not-ready" and hook["exit_code"] == 1
    (row,) = hook["rollup"]["orgs"]
    assert row["name"] == "Acme Notify" and row["notice"]["days_left"] == 36
    blocking = {b["id"]: b for b in row["blocking"]}
    assert blocking["active-users"]["findings"] >= 1
    assert row["report"] == "https://reports.example/acme/"
    assert hook["rollup"]["schema_version"] == 1

    (mail,) = mailbox.messages
    assert mailbox.tls_seen == [True]
    assert mailbox.logins == [("ops-bot", "s3cret-smtp-pass")]
    assert sorted(mail.rcpt_tos) == ["cfo@acme.example", "ops@acme.example"]
    parsed = message_from_bytes(mail.original_content or b"", policy=policy.default)
    assert "Acme Notify" in str(parsed["Subject"])
    plain = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "36 days left to give notice" in plain and "<h2>" in html
    for blocking_check in row["blocking"]:
        assert blocking_check["title"] in plain


def test_finding_counts_match_the_report(
    tmp_path: Path, hooks: Hooks, cli: Callable[..., Result]
) -> None:
    config = audit_config(tmp_path, f"- type: webhook\n  url: {hooks.url}/hook\n")
    run_cli(cli, config)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (hook,) = hooks.bodies("/hook")
    counts = {b["id"]: b["findings"] for b in hook["rollup"]["orgs"][0]["blocking"]}
    expected = {
        c["id"]: len([f for f in c["findings"] if not f["waived_by"] and f["severity"] != "info"])
        for c in report["checks"]
        if c["id"] in report["blocking"]
    }
    assert counts == expected and counts


def test_details_false_keeps_people_out_and_true_lists_them(
    tmp_path: Path, hooks: Hooks, mailbox: Mailbox, cli: Callable[..., Result]
) -> None:
    channels = ""
    for details in ("false", "true"):
        channels += textwrap.dedent(
            f"""\
            - {{type: slack, url: "{hooks.url}/slack-{details}", details: {details}}}
            - {{type: teams, url: "{hooks.url}/teams-{details}", details: {details}}}
            - {{type: webhook, url: "{hooks.url}/hook-{details}", details: {details}}}
            - type: email
              host: 127.0.0.1
              port: {mailbox.port}
              from: sfaudit@acme.example
              to: [{details}@acme.example]
              username: ops-bot
              password: s3cret-smtp-pass
              details: {details}
            """
        )
    run_cli(cli, audit_config(tmp_path, channels))
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    people = {f["user"] for c in report["checks"] for f in c["findings"] if f.get("user")}
    assert "jane.doe@acme.example" in people
    mails = {m.rcpt_tos[0].split("@")[0]: m.original_content.decode() for m in mailbox.messages}  # type: ignore[union-attr]
    for details in ("false", "true"):
        texts = [
            json.dumps(b)
            for kind in ("slack", "teams", "hook")
            for b in hooks.bodies(f"/{kind}-{details}")
        ]
        texts.append(mails[details])
        assert len(texts) == 4
        for text in texts:
            found = {p for p in people if p in text}
            if details == "false":
                assert found == set(), f"personal data in a message without details: {found}"
            else:
                assert "jane.doe@acme.example" in found
    assert_slack_shape(hooks.bodies("/slack-true")[0])
    assert_teams_shape(hooks.bodies("/teams-true")[0])
    hook = hooks.bodies("/hook-true")[0]
    users = hook["rollup"]["orgs"][0]["blocking"]
    assert any("jane.doe@acme.example" in d for b in users for d in b["details"])


# --- delivery: retries, failures, Retry-After -------------------------------------


def test_a_channel_answering_500_three_times_is_retried_then_a_warning(
    tmp_path: Path, hooks: Hooks, cli: Callable[..., Result]
) -> None:
    hooks.answers["/broken"] = [(500, {}, "oops")] * 3
    config = audit_config(
        tmp_path,
        f"""\
        - type: webhook
          url: {hooks.url}/broken
          retries: 2
          backoff_s: 0
          timeout_s: 5
        - type: slack
          url: {hooks.url}/slack
        """,
    )
    result = run_cli(cli, config)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert result.exit_code == report["exit_code"] == 1  # not ready, as without notify
    assert report["problems"] == []
    assert len(hooks.bodies("/broken")) == 3  # the first try and 2 retries
    assert (
        "warning: notification not sent: webhook #1 (127.0.0.1): failed (HTTP 500" in result.output
    )
    assert "after 3 attempts" in result.output
    assert len(hooks.bodies("/slack")) == 1  # the other channel still went out


def test_the_exit_code_is_the_same_with_and_without_a_failing_channel(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    closed = _free_port()
    config = audit_config(
        tmp_path, f"- {{type: webhook, url: 'http://127.0.0.1:{closed}/x', retries: 0}}\n"
    )
    with_notify = run_cli(cli, config)
    without = cli(
        "run", "-c", config, "--select", "active-users,notice-deadline", "-o", tmp_path / "o2"
    )
    assert with_notify.exit_code == without.exit_code == 1
    assert "cannot connect to 127.0.0.1" in with_notify.output


def test_retry_after_is_respected(hooks: Hooks) -> None:
    hooks.answers["/busy"] = [(429, {"Retry-After": "7"}, "slow down"), (503, {}, "")]
    waits: list[float] = []
    channel = load_config(
        text=f"notify:\n  - {{type: webhook, url: '{hooks.url}/busy', backoff_s: 0.25}}\n"
    ).notify[0]
    (delivery,) = send(
        sample_notification(), [channel], _notifiers(), transport=Transport(waits.append)
    )
    assert delivery.status == "sent", delivery
    assert len(hooks.bodies("/busy")) == 3
    # 7 s from Retry-After, then the backoff (0.25 s doubled once) for the 503
    assert waits == [7.0, 0.5] and delivery.detail == "HTTP 200 after 3 attempts"


def test_a_retry_after_beyond_max_time_gives_up_at_once(hooks: Hooks) -> None:
    hooks.answers["/busy"] = [(429, {"Retry-After": "3600"}, "")]
    waits: list[float] = []
    channel = load_config(
        text=f"notify:\n  - {{type: slack, url: '{hooks.url}/busy', max_time_s: 30}}\n"
    ).notify[0]
    (delivery,) = send(
        sample_notification(), [channel], _notifiers(), transport=Transport(waits.append)
    )
    assert delivery.status == "failed" and waits == []
    assert "wait 3600 s, past max_time_s (30 s)" in delivery.detail
    assert len(hooks.bodies("/busy")) == 1


def test_a_4xx_answer_is_not_retried(hooks: Hooks) -> None:
    hooks.answers["/slack"] = [(400, {}, "invalid_blocks")]
    channel = load_config(text=f"notify:\n  - {{type: slack, url: '{hooks.url}/slack'}}\n").notify[
        0
    ]
    (delivery,) = send(
        sample_notification(), [channel], _notifiers(), transport=Transport(lambda s: None)
    )
    assert delivery.status == "failed" and delivery.detail == "HTTP 400 Bad Request: invalid_blocks"
    assert len(hooks.bodies("/slack")) == 1


def test_smtp_login_refused_is_a_failed_delivery(mailbox: Mailbox) -> None:
    channel = load_config(
        text=textwrap.dedent(
            f"""\
            notify:
              - type: email
                host: 127.0.0.1
                port: {mailbox.port}
                from: sfaudit@acme.example
                to: ops@acme.example
                username: ops-bot
                password: wrong-password-1234
            """
        )
    ).notify[0]
    (delivery,) = send(sample_notification(), [channel], _notifiers())
    assert delivery.status == "failed" and "refused the login" in delivery.detail
    assert "wrong-password-1234" not in delivery.line()
    assert mailbox.messages == []


def test_smtp_without_starttls_on_the_server_is_refused(tmp_path: Path) -> None:
    """A server that does not offer STARTTLS never gets the password."""
    got: list[Envelope] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
            got.append(envelope)
            return "250 OK"

    port = _free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        channel = load_config(
            text=f"notify:\n  - {{type: email, host: 127.0.0.1, port: {port}, from: a@b.example, "
            "to: c@d.example, username: u, password: pw-12345678}\n"
        ).notify[0]
        (delivery,) = send(sample_notification(), [channel], _notifiers())
    finally:
        controller.stop()
    assert delivery.status == "failed" and "does not offer STARTTLS" in delivery.detail
    assert got == []


# --- on: filtering, changed, min_severity -----------------------------------------


def _row(name: str, verdict: str, *blocking: tuple[str, str, int], days: int | None = 20) -> OrgRow:
    return OrgRow(
        name=name,
        verdict=verdict,
        exit_code={"ready": 0, "not-ready": 1}.get(verdict, 3),
        blocking=tuple(BlockingCheck(i, i.title(), s, "fail", n) for i, s, n in blocking),
        deadline="2026-12-16" if days is not None else None,
        days_left=days,
    )


def _notifiers() -> dict[str, Notifier]:
    return get_plugin_manager(entry_points=False).collect_notifiers()


def _channels(hooks: Hooks, *entries: str) -> list[Any]:
    text = "notify:\n" + "".join(
        f"  - {{type: webhook, url: '{hooks.url}/{i}', {entry}}}\n"
        for i, entry in enumerate(entries)
    )
    return load_config(text=text).notify


def test_on_filters_by_verdict(hooks: Hooks) -> None:
    channels = _channels(hooks, "name: default", "on: [ready]", "on: [always]", "on: [incomplete]")
    ready = Notification(Rollup([_row("a", "ready")]))
    not_ready = Notification(Rollup([_row("a", "not-ready", ("active-users", "high", 3))]))
    statuses = [d.status for d in send(ready, channels, _notifiers())]
    assert statuses == ["skipped", "sent", "sent", "skipped"]
    statuses = [d.status for d in send(not_ready, channels, _notifiers())]
    assert statuses == ["sent", "skipped", "sent", "skipped"]
    assert len(hooks.bodies("/0")) == 1 and len(hooks.bodies("/1")) == 1


def test_changed_compares_verdict_and_blocking_checks_with_the_baseline(hooks: Hooks) -> None:
    (channel,) = _channels(hooks, "on: [changed]")
    base = Rollup([_row("a", "not-ready", ("active-users", "high", 3))])
    same = Rollup([_row("a", "not-ready", ("active-users", "high", 5))])  # only the count moved
    more = Rollup([_row("a", "not-ready", ("active-users", "high", 3), ("backup", "critical", 1))])
    fixed = Rollup([_row("a", "ready")])
    assert send(Notification(same), [channel], _notifiers())[0].status == "skipped"  # no baseline
    assert send(Notification(same, baseline=base), [channel], _notifiers())[0].status == "skipped"
    assert send(Notification(more, baseline=base), [channel], _notifiers())[0].status == "sent"
    assert send(Notification(fixed, baseline=base), [channel], _notifiers())[0].status == "sent"
    (body_more, body_fixed) = hooks.bodies("/0")
    assert body_more["changed"] is True and "changed since the baseline" in body_more["text"]
    assert body_fixed["verdict"] == "ready"


def test_min_severity_lists_and_triggers_only_at_or_above_it(hooks: Hooks) -> None:
    high, low = _channels(hooks, "min_severity: high", "min_severity: low")
    low_only = Notification(Rollup([_row("a", "not-ready", ("stale-jobs", "medium", 2))]))
    assert [d.status for d in send(low_only, [high, low], _notifiers())] == ["skipped", "sent"]
    both = Notification(
        Rollup([_row("a", "not-ready", ("stale-jobs", "medium", 2), ("active-users", "high", 4))])
    )
    send(both, [high], _notifiers())
    body = hooks.bodies("/0")[0]
    (org_row,) = body["rollup"]["orgs"]
    assert [b["id"] for b in org_row["blocking"]] == ["active-users"]
    assert org_row["hidden_blocking"] == 1
    assert "1 more blocking check below high" in body["text"]
    # changed only counts checks the channel lists
    base = Rollup([_row("a", "not-ready", ("active-users", "high", 4))])
    (changed_high,) = _channels(hooks, "on: [changed], min_severity: high")
    assert (
        send(Notification(both.rollup, baseline=base), [changed_high], _notifiers())[0].status
        == "skipped"
    )


def test_run_with_the_same_baseline_is_not_changed(
    tmp_path: Path, hooks: Hooks, cli: Callable[..., Result]
) -> None:
    config = audit_config(
        tmp_path, f"- {{type: webhook, url: '{hooks.url}/hook', on: [changed]}}\n"
    )
    run_cli(cli, config)
    assert hooks.bodies("/hook") == []  # no baseline: nothing changed
    first = tmp_path / "first.json"
    first.write_text((tmp_path / "out" / "report.json").read_text())
    run_cli(cli, config, "--baseline", str(first))
    assert hooks.bodies("/hook") == []
    old = json.loads(first.read_text())
    old["blocking"] = []
    old["verdict"] = "ready"
    first.write_text(json.dumps(old))
    run_cli(cli, config, "--baseline", str(first))
    (body,) = hooks.bodies("/hook")
    assert body["changed"] is True


def test_a_fleet_rollup_is_one_message_per_channel(hooks: Hooks) -> None:
    rollup = Rollup(
        [
            _row("emea-prod", "ready"),
            _row("us-legacy", "not-ready", ("active-users", "high", 3), days=5),
            OrgRow(
                name="apac", verdict="incomplete", exit_code=3, error="the org could not be read"
            ),
        ]
    )
    channels = load_config(
        text=f"notify:\n  - {{type: slack, url: '{hooks.url}/slack'}}\n"
        f"  - {{type: teams, url: '{hooks.url}/teams'}}\n"
        f"  - {{type: webhook, url: '{hooks.url}/hook'}}\n"
    ).notify
    note = Notification(rollup, report_url="https://ci.example/fleet/")
    deliveries = send(note, channels, _notifiers())
    assert [d.status for d in deliveries] == ["sent"] * 3
    assert len(hooks.received) == 3
    (slack,) = hooks.bodies("/slack")
    assert_slack_shape(slack)
    assert "fleet of 3 orgs" in slack["blocks"][0]["text"]["text"]
    assert_teams_shape(hooks.bodies("/teams")[0])
    hook = hooks.bodies("/hook")[0]
    assert [o["name"] for o in hook["rollup"]["orgs"]] == ["us-legacy", "apac", "emea-prod"]
    assert {o["name"]: o["verdict"] for o in hook["rollup"]["orgs"]} == {
        "emea-prod": "ready",
        "us-legacy": "not-ready",
        "apac": "incomplete",
    }
    assert hook["exit_code"] == 3 and hook["verdict"] == "incomplete"


def test_relative_report_links_resolve_against_report_url(hooks: Hooks) -> None:
    row = OrgRow(name="emea", verdict="ready", exit_code=0, report="emea/readiness.html")
    (channel,) = _channels(hooks, "on: [always]")
    send(
        Notification(Rollup([row, _row("us", "ready")]), report_url="https://ci.example/fleet"),
        [channel],
        _notifiers(),
    )
    orgs = {o["name"]: o for o in hooks.bodies("/0")[0]["rollup"]["orgs"]}
    assert orgs["emea"]["report"] == "https://ci.example/fleet/emea/readiness.html"
    assert orgs["us"]["report"] == "https://ci.example/fleet"


def test_slack_escapes_org_text(hooks: Hooks) -> None:
    (channel,) = load_config(
        text=f"notify:\n  - {{type: slack, url: '{hooks.url}/s', on: [always]}}\n"
    ).notify
    send(Notification(Rollup([_row("<!channel> & co", "ready")])), [channel], _notifiers())
    body = hooks.bodies("/s")[0]
    sections = json.dumps([b for b in body["blocks"] if b["type"] == "section"])
    assert "<!channel>" not in sections and "&lt;!channel&gt; &amp; co" in sections


# --- plugins ----------------------------------------------------------------------


class Collector:
    """A third-party plugin: a notifier type of its own, and the sfaudit_notify hook."""

    __name__ = "collector"

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.notified: list[Notification] = []

    @hookimpl
    def sfaudit_register_notifiers(self) -> list[Notifier]:
        def deliver(message: Any, channel: Any, transport: Any) -> str:
            self.messages.append(f"{channel.options['room']}: {message.title}")
            return "posted"

        return [Notifier("chatroom", deliver, requires=("options",))]

    @hookimpl
    def sfaudit_notify(self, report: Notification, config: Any) -> list[Delivery]:
        self.notified.append(report)
        return [Delivery("pager", "pager", "sent", f"{len(report.rollup.rows)} org")]


class Broken:
    __name__ = "broken"

    @hookimpl
    def sfaudit_notify(self, report: Notification, config: Any) -> None:
        raise RuntimeError("pager down")


def test_a_plugin_registers_a_notifier_type_and_implements_the_hook(tmp_path: Path) -> None:
    collector = Collector()
    config_path = audit_config(tmp_path, "- {type: chatroom, options: {room: ops}}\n")
    with Audit.from_config(config_path, extra=[collector, Broken()], entry_points=False) as audit:
        audit.run(select=["active-users"])
        audit.write()
        deliveries = audit.notify()
    assert collector.messages == ["ops: sfaudit: Acme Notify: Not ready to cancel"]
    assert collector.notified[0].rollup.rows[0].name == "Acme Notify"
    assert [(d.channel, d.status) for d in deliveries] == [
        ("chatroom #1", "sent"),
        ("pager", "sent"),
        ("plugin", "failed"),
    ]
    assert "pager down" in deliveries[2].detail
    assert audit.report is not None and audit.report.problems == []
    assert audit.report.exit_code == 1


# --- config -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected", "hint"),
    [
        (
            "{type: slak, url: 'https://x.example/a'}",
            ":4: notify[0].type: unknown notifier type 'slak'",
            "did you mean 'slack'?",
        ),
        ("{type: slack}", ":4: notify[0]: a slack channel needs url", "add url:"),
        (
            "{type: slack, url: 'ftp://x'}",
            ":4: notify[0].url: must be an http:// or https:// URL",
            None,
        ),
        ("{type: slack, url: 'https://x.example/a', on: [not_ready]}", "notify[0].on[0]", None),
        (
            "{type: slack, url: 'https://x.example/a', min_severity: huge}",
            "unknown severity 'huge'",
            None,
        ),
        (
            "{type: slack, url: 'https://x.example/a', detail: true}",
            "unknown key 'detail'",
            "did you mean 'details'?",
        ),
        ("{type: email, host: h, to: [a@b.example]}", "an email channel needs from", None),
        (
            "{type: email, host: h, from: a@b.example, to: x@y.example, username: u, password: p12345, starttls: false}",
            "notify[0].starttls: an SMTP login needs starttls: true",
            None,
        ),
    ],
)
def test_notify_config_errors_name_the_line_and_field(
    tmp_path: Path, entry: str, expected: str, hint: str | None
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"version: 1\norg: {{source: 'snapshot:x.json'}}\nnotify:\n  - {entry}\n")
    with pytest.raises(ConfigError) as info:
        Audit.from_config(path, entry_points=False, source_flag=None)
    assert str(path) + expected in str(info.value) or expected in str(info.value), str(info.value)
    if hint:
        assert hint in str(info.value)


def test_notify_values_expand_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.example/services/T1/B2/abcdefgh")
    config = load_config(text="notify:\n  - type: slack\n    url: ${SLACK_WEBHOOK_URL}\n")
    assert config.notify[0].url == "https://hooks.slack.example/services/T1/B2/abcdefgh"
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    with pytest.raises(ConfigError) as info:
        load_config(text="notify:\n  - type: slack\n    url: ${SLACK_WEBHOOK_URL}\n")
    assert "<config>:3: notify[0].url: environment variable SLACK_WEBHOOK_URL is not set" in str(
        info.value
    )


def test_the_defaults() -> None:
    (channel,) = load_config(
        text="notify:\n  - {type: webhook, url: 'https://x.example/h'}\n"
    ).notify
    assert channel.on == ["not-ready", "incomplete", "changed"]
    assert channel.details is False and channel.min_severity is None
    assert (channel.retries, channel.timeout_s, channel.max_time_s) == (3, 10.0, 60.0)


# --- secrets ----------------------------------------------------------------------

SLACK_SECRET = "T0SECRET/B0SECRET/xoxSECRETtoken1234"
TEAMS_SIG = "sigSECRETsignature5678"
SMTP_PASSWORD = "s3cret-smtp-pass"


def test_no_webhook_url_or_password_in_any_output(
    tmp_path: Path, hooks: Hooks, mailbox: Mailbox
) -> None:
    """A real process, with -vv (urllib3 logs every request's path at debug level):
    failing and working channels alike leave no secret in stdout, stderr or the reports."""
    closed = _free_port()
    hooks.answers[f"/services/{SLACK_SECRET}"] = [(500, {}, f"echo {SLACK_SECRET}")] * 2
    config = audit_config(
        tmp_path,
        f"""\
        - type: slack
          url: ${{SLACK_WEBHOOK_URL}}
          retries: 1
          backoff_s: 0
        - type: teams
          url: ${{TEAMS_WORKFLOW_URL}}
        - type: teams
          url: "http://127.0.0.1:{closed}/workflows/x/triggers/manual/paths/invoke?sig={TEAMS_SIG}"
          retries: 0
        - type: email
          host: 127.0.0.1
          port: {mailbox.port}
          from: sfaudit@acme.example
          to: ops@acme.example
          username: ops-bot
          password: ${{SMTP_PASSWORD}}
        - type: email
          host: 127.0.0.1
          port: {mailbox.port}
          from: sfaudit@acme.example
          to: ops@acme.example
          username: ops-bot
          password: {SMTP_PASSWORD}-but-wrong
        """,
    )
    env = {
        "PATH": str(Path(sys.executable).parent),
        "SSL_CERT_FILE": mailbox.ca_file,
        "SLACK_WEBHOOK_URL": f"{hooks.url}/services/{SLACK_SECRET}",
        "TEAMS_WORKFLOW_URL": f"{hooks.url}/teams/workflows/abc/invoke?sig={TEAMS_SIG}",
        "SMTP_PASSWORD": SMTP_PASSWORD,
        "NO_PROXY": "127.0.0.1",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sfaudit",
            "-vv",
            "run",
            "-c",
            str(config),
            "--select",
            "active-users",
            "--format",
            "json,md,html",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert len(hooks.bodies(f"/services/{SLACK_SECRET}")) == 2  # it did try, twice
    assert len(mailbox.messages) == 1
    assert "DEBUG" in done.stderr and "warning: notification not sent" in done.stderr
    outputs = [done.stdout, done.stderr] + [p.read_text() for p in (tmp_path / "out").iterdir()]
    for text in outputs:
        for secret in (SLACK_SECRET, TEAMS_SIG, SMTP_PASSWORD, "xoxSECRET", "B0SECRET"):
            assert secret not in text, f"{secret} leaked:\n{text[:3000]}"
    assert "slack #1 (127.0.0.1): failed (HTTP 500" in done.stderr


def test_no_secret_in_the_config_repr_or_a_delivery(hooks: Hooks) -> None:
    url = f"{hooks.url}/services/{SLACK_SECRET}"
    hooks.answers[f"/services/{SLACK_SECRET}"] = [(404, {}, f"no_service for {url}")]
    (channel,) = load_config(
        text=f"notify:\n  - {{type: slack, url: '{url}', password: {SMTP_PASSWORD}}}\n"
    ).notify
    assert SLACK_SECRET not in repr(channel) and SMTP_PASSWORD not in repr(channel)
    (delivery,) = send(sample_notification(), [channel], _notifiers())
    assert delivery.status == "failed"
    assert SLACK_SECRET not in json.dumps(delivery.to_dict()) and "HTTP 404" in delivery.detail


# --- sfaudit notify --test --------------------------------------------------------


def test_notify_test_sends_a_sample_to_every_channel(
    tmp_path: Path, hooks: Hooks, mailbox: Mailbox, cli: Callable[..., Result]
) -> None:
    config = audit_config(
        tmp_path,
        f"""\
        - {{type: slack, url: "{hooks.url}/slack", on: [ready]}}
        - {{type: teams, url: "{hooks.url}/teams"}}
        - {{type: webhook, url: "{hooks.url}/hook", name: ops-hook}}
        - type: email
          host: 127.0.0.1
          port: {mailbox.port}
          from: sfaudit@acme.example
          to: ops@acme.example
          username: ops-bot
          password: s3cret-smtp-pass
        """,
    )
    result = cli("notify", "--test", "-c", config)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "slack #1 (127.0.0.1): sent (HTTP 200)",
        "teams #2 (127.0.0.1): sent (HTTP 202)",
        "ops-hook: sent (HTTP 200)",
        "email #4 (127.0.0.1): sent (mailed 1 recipient)",
    ]
    slack = hooks.bodies("/slack")[0]
    assert_slack_shape(slack)
    assert slack["blocks"][0]["text"]["text"].startswith("[test] sfaudit: sample-org")
    assert_teams_shape(hooks.bodies("/teams")[0])
    assert hooks.bodies("/hook")[0]["sample"] is True
    assert len(mailbox.messages) == 1


def test_notify_test_exits_1_when_a_channel_fails(
    tmp_path: Path, hooks: Hooks, cli: Callable[..., Result]
) -> None:
    hooks.answers["/down"] = [(503, {}, "")] * 2
    config = audit_config(
        tmp_path,
        f"""\
        - {{type: webhook, url: "{hooks.url}/down", retries: 1, backoff_s: 0}}
        - {{type: slack, url: "{hooks.url}/slack"}}
        """,
    )
    result = cli("notify", "--test", "-c", config)
    assert result.exit_code == 1
    assert (
        "webhook #1 (127.0.0.1): failed (HTTP 503 Service Unavailable after 2 attempts)"
        in result.output
    )
    assert "slack #2 (127.0.0.1): sent (HTTP 200)" in result.output


def test_notify_usage_errors_exit_2(tmp_path: Path, cli: Callable[..., Result]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("version: 1\n")
    result = cli("notify", "--test", "-c", empty)
    assert result.exit_code == 2 and "no notify: channels" in result.output
    assert cli("notify", "-c", empty).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnotify:\n  - {type: teems, url: 'https://x.example/'}\n")
    result = cli("notify", "--test", "-c", bad)
    assert result.exit_code == 2 and "did you mean 'teams'?" in result.output


def test_notify_an_existing_report(
    tmp_path: Path, hooks: Hooks, cli: Callable[..., Result]
) -> None:
    config = audit_config(tmp_path, f"- {{type: webhook, url: '{hooks.url}/hook'}}\n")
    run_cli(cli, config)
    assert len(hooks.bodies("/hook")) == 1
    result = cli("notify", tmp_path / "out" / "report.json", "-c", config)
    assert result.exit_code == 0 and "webhook #1 (127.0.0.1): sent" in result.output
    assert hooks.bodies("/hook")[0]["rollup"]["orgs"] == hooks.bodies("/hook")[1]["rollup"]["orgs"]


def test_notify_in_dutch(hooks: Hooks) -> None:
    (channel,) = _channels(hooks, "on: [always]")
    send(
        Notification(Rollup([_row("a", "not-ready", ("active-users", "high", 3))]), lang="nl"),
        [channel],
        _notifiers(),
    )
    text = hooks.bodies("/0")[0]["text"]
    assert "Niet klaar om op te zeggen" in text and "20 dagen" in text


def test_a_channel_url_registers_its_secret_parts_not_plain_words() -> None:
    from sfaudit.config import NotifyConfig

    plain = NotifyConfig(type="webhook", url="https://hooks.example/sfaudit")
    assert plain.secrets() == ["https://hooks.example/sfaudit"]  # "/sfaudit" stays readable
    slack = NotifyConfig(
        type="slack", url="https://hooks.slack.com/services/T0001/B0002/abcdefghijklmnopqrstuvwx"
    )
    assert "/services/T0001/B0002/abcdefghijklmnopqrstuvwx" in slack.secrets()
    assert "abcdefghijklmnopqrstuvwx" in slack.secrets()
    teams = NotifyConfig(type="teams", url="https://x.example/workflows/run?sig=Zm9vYmFy&sv=1")
    assert "/workflows/run?sig=Zm9vYmFy&sv=1" in teams.secrets()
