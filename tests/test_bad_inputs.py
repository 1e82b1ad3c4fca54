"""The bad-input matrix: every bad input gets exit 2 (or a finding, for exports),
a message naming the file, line or field with a fix, no traceback, and no
report claiming "ready"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sfaudit.testing.exports import ExportBuilder, damage_member, encrypted_zip, truncate
from tests.conftest import small_org

PLUGIN = """\
from sfaudit import check

@check("my-check", severity="low", options={"limit": 1, "names": [], "strict": False})
def my_check(org, options):
    assert len(org.users()) <= options["limit"], "too many users"
"""
BASE = "version: 1\norg: {source: snapshot:org.json}\nplugins: [my_checks.py]\n"
FIX = re.compile(r"hint:|fix:|must be|use one of|did you mean|Try 'sfaudit|expected|write ")


@dataclass
class Case:
    name: str
    args: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    needles: tuple[str, ...] = ()
    code: int = 2
    setup: Callable[[Path], None] | None = None


def snapshot_case(name: str, mutate: Callable[[str], str], needle: str) -> Case:
    def setup(tmp: Path) -> None:
        path = tmp / "org.json"
        path.write_text(mutate(path.read_text()))

    return Case(
        f"snapshot: {name}",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE},
        ("org.json", needle),
        setup=setup,
    )


CASES: list[Case] = [
    # --- configs -------------------------------------------------------------
    Case(
        "malformed yaml",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\norg: {source: [\n"},
        ("a.yaml:3", "invalid YAML"),
    ),
    Case(
        "tab indentation",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\norg:\n\tsource: live\n"},
        ("a.yaml:3", "tab"),
    ),
    Case(
        "duplicate key",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nfail_on: high\nfail_on: low\n"},
        ("a.yaml:3", "duplicate key 'fail_on'"),
    ),
    Case(
        "unknown top key",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nfial_on: high\n"},
        ("a.yaml:2", "did you mean 'fail_on'"),
    ),
    Case(
        "unknown nested key",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  end_dte: 2027-01-31\n"},
        ("a.yaml:3", "did you mean 'end_date'"),
    ),
    Case(
        "wrong type",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  notice_days: soon\n"},
        ("a.yaml:3", "contract.notice_days", "whole number"),
    ),
    Case(
        "invalid date",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  end_date: 2027-02-30\n"},
        ("a.yaml:3", "contract.end_date", "YYYY-MM-DD"),
    ),
    Case(
        "date as text",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  notice_sent: last week\n"},
        ("a.yaml:3", "contract.notice_sent", "YYYY-MM-DD"),
    ),
    Case(
        "end before start",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  start_date: 2027-01-01\n  end_date: 2026-01-01\n"},
        ("a.yaml:4", "contract.end_date", "not after start_date"),
    ),
    Case(
        "negative days",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  notice_days: -5\n"},
        ("a.yaml:3", "greater than or equal to 0"),
    ),
    Case(
        "negative fee",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  annual_fee: -1\n"},
        ("a.yaml:3", "contract.annual_fee"),
    ),
    Case(
        "bad currency",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract:\n  currency: euros\n"},
        ("a.yaml:3", "contract.currency"),
    ),
    Case(
        "bad severity",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {severity: urgent}\n"},
        ("a.yaml:5", "unknown severity 'urgent'"),
    ),
    Case(
        "bad fail_on",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nfail_on: sometimes\n"},
        ("a.yaml:2", "fail_on"),
    ),
    Case(
        "waiver without reason",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nwaivers:\n  - check: my-check\n    expires: 2026-12-31\n"},
        ("a.yaml:3", "waivers[0].reason"),
    ),
    Case(
        "waiver without expiry",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nwaivers:\n  - check: my-check\n    reason: ok\n"},
        ("a.yaml:3", "waivers[0].expires"),
    ),
    Case(
        "blank waiver reason",
        ["run", "-c", "a.yaml"],
        {
            "a.yaml": "version: 1\nwaivers:\n  - check: x\n    reason: '   '\n    expires: 2026-12-31\n"
        },
        ("a.yaml:4", "needs a reason"),
    ),
    Case(
        "waiver for unknown check",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "waivers:\n  - check: my-chek\n    reason: r\n    expires: 2026-12-31\n"},
        ("a.yaml:5", "did you mean 'my-check'"),
    ),
    Case(
        "unknown check",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-chek: {}\n"},
        ("a.yaml:5", "did you mean 'my-check'"),
    ),
    Case(
        "unknown check option",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {limt: 3}\n"},
        ("a.yaml:5", "did you mean 'limit'"),
    ),
    Case(
        "option of wrong type",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {strict: maybe}\n"},
        ("a.yaml:5", "must be true or false"),
    ),
    Case(
        "list option not a list",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {names: bob}\n"},
        ("a.yaml:5", "must be a list"),
    ),
    Case(
        "enabled not bool",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {enabled: 'no'}\n"},
        ("a.yaml:5", "must be true or false"),
    ),
    Case(
        "negative timeout",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: {timeout: -1}\n"},
        ("a.yaml:5", "positive number"),
    ),
    Case(
        "check block not a mapping",
        ["run", "-c", "a.yaml"],
        {"a.yaml": BASE + "checks:\n  my-check: [1, 2]\n"},
        ("a.yaml:5", "write a YAML mapping"),
    ),
    Case(
        "unset env var",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\norg:\n  source: ${SFAUDIT_TEST_UNSET_VAR}\n"},
        ("a.yaml:3", "SFAUDIT_TEST_UNSET_VAR is not set"),
    ),
    Case(
        "config not a mapping",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "- just\n- a list\n"},
        ("a.yaml:1", "must be a mapping"),
    ),
    Case(
        "wrong config version",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 2\n"},
        ("a.yaml:1", "unsupported config version"),
    ),
    Case(
        "unknown report key",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nreport: {formats: [json], outptu: x}\n"},
        ("a.yaml:2", "did you mean 'output'"),
    ),
    Case(
        "unknown lang",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nreport: {lang: fr}\n"},
        ("a.yaml:2", "report.lang"),
    ),
    Case(
        "section not a mapping",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ncontract: soon\n"},
        ("a.yaml:2", "contract"),
    ),
    Case(
        "yaml merge key",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nbase: &b {notice_days: 30}\ncontract:\n  <<: *b\n"},
        ("a.yaml:4", "merge keys"),
    ),
    Case(
        "config is binary",
        ["run", "-c", "a.yaml"],
        {"a.yaml": b"\xff\xfe\x00junk"},
        ("a.yaml", "not UTF-8"),
    ),
    Case("config is a folder", ["run", "-c", "sub"], {"sub/x": "x"}, ("sub", "is a directory")),
    Case("config missing", ["run", "-c", "nope.yaml"], {}, ("nope.yaml", "not found")),
    # --- plugin files ----------------------------------------------------------
    Case(
        "plugin missing",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nplugins: [gone.py]\n"},
        ("a.yaml:2", "gone.py", "does not exist"),
    ),
    Case(
        "plugin syntax error",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nplugins: [p.py]\n", "p.py": "x = 1\ndef broken(:\n"},
        ("p.py:2", "syntax error"),
    ),
    Case(
        "plugin raises at import",
        ["run", "-c", "a.yaml"],
        {
            "a.yaml": "version: 1\nplugins: [p.py]\n",
            "p.py": "import os\nraise RuntimeError('nope')\n",
        },
        ("p.py:2", "RuntimeError", "nope"),
    ),
    # --- command-line flags ----------------------------------------------------
    Case("bad --today", ["run", "--today", "26-11-2026"], {}, ("--today",)),
    Case("bad --fail-on", ["run", "--fail-on", "sometimes"], {}, ("--fail-on",)),
    Case(
        "unknown --format",
        ["run", "-c", "a.yaml", "--format", "json,pdf"],
        {"a.yaml": BASE},
        ("unknown report format 'pdf'",),
    ),
    Case(
        "unknown --select",
        ["run", "-c", "a.yaml", "--select", "my-chek"],
        {"a.yaml": BASE},
        ("--select", "did you mean 'my-check'"),
    ),
    Case(
        "unknown --source",
        ["run", "-c", "a.yaml", "--source", "ftp://x"],
        {"a.yaml": "version: 1\n"},
        ("unknown org source 'ftp://x'",),
    ),
    Case("empty snapshot path", ["run", "--source", "snapshot:"], {}, ("snapshot: needs a path",)),
    Case("unknown option", ["run", "--colour"], {}, ("--colour",)),
    Case("unknown command", ["audit"], {}, ("audit",)),
    Case(
        "missing baseline",
        ["run", "-c", "a.yaml", "--baseline", "old.json"],
        {"a.yaml": BASE},
        ("old.json", "not found"),
    ),
    Case(
        "baseline not a report",
        ["run", "-c", "a.yaml", "--baseline", "old.json"],
        {"a.yaml": BASE, "old.json": '{"a": 1}'},
        ("old.json", "not an sfaudit report.json"),
    ),
    Case(
        "baseline truncated",
        ["run", "-c", "a.yaml", "--baseline", "old.json"],
        {"a.yaml": BASE, "old.json": '{"schema_version": 1, "che'},
        ("old.json:1", "not valid JSON"),
    ),
    Case(
        "explain unknown check",
        ["explain", "no-such-check"],
        {},
        ("unknown check 'no-such-check'",),
    ),
    # --- snapshots -------------------------------------------------------------
    snapshot_case("truncated", lambda t: t[: len(t) // 2], "not valid JSON"),
    snapshot_case(
        "wrong version",
        lambda t: t.replace('"version": 1', '"version": 7'),
        "version 7 is not supported",
    ),
    snapshot_case(
        "not a snapshot",
        lambda t: t.replace("sfaudit-snapshot", "other"),
        "not an sfaudit snapshot",
    ),
    snapshot_case(
        "user without id",
        lambda t: t.replace('"id": "0055g', '"xid": "0055g', 1),
        "users[0]: missing field 'id'",
    ),
    snapshot_case(
        "users not a list",
        lambda t: json.dumps({**json.loads(t), "users": {}}),
        "users: expected a list",
    ),
    snapshot_case(
        "org missing",
        lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "org"}),
        "'org' is missing",
    ),
    snapshot_case("empty file", lambda t: "", "not valid JSON"),
]


ORG = "00D5g000000ACMEEA2"
PART = f"WE_{ORG}_1.ZIP"


def export_case(
    name: str, build: Callable[[Path], object], *needles: str, args: tuple[str, ...] = ()
) -> Case:
    """A bad Data Export: a finding (exit 1) naming the part or member and the fix."""

    def setup(tmp: Path) -> None:
        (tmp / "exp").mkdir()
        build(tmp / "exp")

    return Case(
        f"export: {name}", ["verify-backup", "exp", *args], {}, needles, code=1, setup=setup
    )


def accounts(n: int = 40) -> ExportBuilder:
    return ExportBuilder().object("Account", n)


def not_a_zip(f: Path) -> None:
    (f / PART).write_text("<html>session expired</html>")


def truncated(f: Path) -> None:
    accounts(400).write(f)
    truncate(f / PART, 0.5)


def corrupt(f: Path) -> None:
    accounts(500).write(f)
    damage_member(f / PART, "Account.csv", at=0.5)


def encrypted(f: Path) -> None:
    encrypted_zip(f / PART, {"Contact.csv": b'"Id"\r\n"003"\r\n'}, b"pw", ["Contact.csv"])


def mixed_csv() -> bytes:
    """A CSV with UTF-8 text and ISO-8859-1 text: two files joined by hand."""
    return '"Id","Name"\n"003A","Zürich"\n'.encode() + '"003B","Zürich"\n'.encode("latin-1")


def missing_part(f: Path) -> None:
    ExportBuilder().object("Account", 400).object("Contact", 900).object("Deal__c", 120).write(
        f, parts=3
    )
    (f / f"WE_{ORG}_2.ZIP").unlink()


CASES += [
    export_case("not a zip", not_a_zip, PART, "not a readable ZIP", "download it again"),
    export_case("truncated zip", truncated, PART, "truncated", "download it again"),
    export_case("corrupt member", corrupt, "Account", "corrupt"),
    export_case("encrypted member", encrypted, "Contact.csv", "encrypted"),
    export_case(
        "zip-slip name",
        lambda f: accounts().member("../evil.csv", b'"Id"\n"1"\n').write(f),
        "../evil.csv",
    ),
    export_case(
        "zip bomb",
        lambda f: accounts().member("Task.csv", b"\x00" * (8 << 20)).write(f),
        "Task.csv",
        "compression ratio",
    ),
    export_case("empty csv", lambda f: accounts().raw_csv("Contact", b"").write(f), "Contact"),
    export_case(
        "binary junk named .csv",
        lambda f: accounts().raw_csv("Contact", bytes(range(256)) * 200).write(f),
        "Contact",
    ),
    export_case(
        "latin-1 declared utf-8",
        lambda f: ExportBuilder(encoding="iso-8859-1").object("Account", 80).write(f),
        "Account",
        "not valid UTF-8",
        args=("--encoding", "utf-8"),
    ),
    export_case(
        "utf-8 and latin-1 in one csv",
        lambda f: accounts().raw_csv("Contact", mixed_csv()).write(f),
        "Contact.csv",
        "mixes encodings",
    ),
    export_case(
        "attachment cut short",
        lambda f: (
            ExportBuilder.real().object("Attachment", 6).files("Attachment", cut=[2]).write(f)
        ),
        "00P5g0000000003",
        "cut short",
    ),
    export_case(
        "content body failing its md5",
        lambda f: ExportBuilder.real().content_bodies(4, bad_hash=[1]).write(f),
        "05T5g0000000002",
        "MD5",
    ),
    export_case(
        "nul outside quotes",
        lambda f: (
            accounts().raw_csv("Contact", b'"Id","Name"\n\x00\x00\x01\x02"003","a"\n').write(f)
        ),
        "Contact.csv",
        "NUL byte outside quotes",
    ),
    Case(
        "export: unknown --encoding",
        ["verify-backup", "exp", "--encoding", "klingon"],
        {"exp/Account.csv": '"Id"\n"001"\n'},
        ("--encoding", "unknown encoding 'klingon'"),
    ),
    export_case("missing middle part", missing_part, "part 2 of the export is missing"),
    Case("export: path does not exist", ["verify-backup", "nope"], {}, ("nope", "does not exist")),
]


CASES += [
    Case(
        "recursive yaml alias",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\nplugins: &a [*a]\n"},
        ("a.yaml", "alias refers to itself"),
    ),
    Case(
        "baseline with a bad finding",
        ["run", "-c", "a.yaml", "--baseline", "old.json"],
        {
            "a.yaml": BASE,
            "old.json": json.dumps(
                {
                    "schema_version": 1,
                    "checks": [
                        {"id": "my-check", "findings": [{"message": "x", "severity": "urgent"}]}
                    ],
                }
            ),
        },
        ("old.json", "my-check", "unknown severity 'urgent'"),
    ),
    Case(
        "--backup does not exist",
        ["run", "-c", "a.yaml", "--backup", "nope/"],
        {"a.yaml": "version: 1\norg: {source: snapshot:org.json}\n"},
        ("nope", "does not exist"),
    ),
    Case(
        "unwritable output folder",
        ["run", "-c", "a.yaml", "--select", "my-check", "-o", "/proc/sfaudit-out"],
        {"a.yaml": BASE},
        ("cannot write reports to /proc/sfaudit-out",),
    ),
]


EMPTY = ("is empty", "`sfaudit init` writes a commented one", "point -c")
CASES += [
    # --- configs that say nothing, and runs with no org -------------------------
    Case("empty config", ["run", "-c", "a.yaml"], {"a.yaml": ""}, ("a.yaml: ", *EMPTY)),
    Case(
        "config of blank lines",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "\n  \n\t\n"},
        ("a.yaml: ", *EMPTY),
    ),
    Case(
        "config of comments only",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "# version: 1\n# org:\n#   source: live\n"},
        ("a.yaml: holds only comments", "`sfaudit init`"),
    ),
    Case(
        "config of a bare ---",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "---\n...\n"},
        ("a.yaml: holds no settings", "`sfaudit init`"),
    ),
    Case(
        "empty ./sfaudit.yaml found by default",
        ["run"],
        {"sfaudit.yaml": ""},
        ("sfaudit.yaml: ", *EMPTY),
    ),
    Case(
        "empty config for verify-backup",
        ["verify-backup", "-c", "a.yaml"],
        {"a.yaml": ""},
        ("a.yaml: ", *EMPTY),
    ),
    Case(
        "no org source in the config",
        ["run", "-c", "a.yaml"],
        {"a.yaml": "version: 1\ntoday: 2026-11-26\nplugins: [my_checks.py]\n"},
        (
            "a.yaml: no org source",
            "set org.source in",
            "a.yaml (snapshot:PATH, live or sf:ALIAS)",
            "or pass --source",
        ),
    ),
    Case(
        "no org source, no config",
        ["run", "--today", "2026-11-26"],
        {},
        ("no org source and no config", "pass --source", "-c CONFIG", "`sfaudit init`"),
    ),
]


# --- fleets, merge and notify (issues 15-17) ------------------------------------------
ORG_A = "orgs:\n  - {name: a, source: snapshot:org.json}\n"
FLEET_A = "version: 1\n" + ORG_A
NOTIFY_CFG = "version: 1\nnotify:\n  - {type: webhook, url: 'http://127.0.0.1:9/x'}\n"
REPORT = json.dumps(
    {"schema_version": 1, "verdict": "ready", "exit_code": 0, "checks": [], "org": {}}
)
FLEET_JSON = json.dumps({"schema_version": 1, "verdict": "ready", "exit_code": 0, "orgs": []})


def fleet_case(name: str, text: str, *needles: str, files: dict[str, str] | None = None) -> Case:
    return Case(
        f"fleet: {name}",
        ["fleet", "-c", "fleet.yaml"],
        {"fleet.yaml": text, **(files or {})},
        needles,
    )


def merge_case(name: str, files: dict[str, str | bytes], *needles: str, args: str = "") -> Case:
    return Case(f"merge: {name}", ["merge", *args.split(), "-o", "roll"], files, needles)


def notify_case(name: str, files: dict[str, str | bytes], args: str, *needles: str) -> Case:
    return Case(
        f"notify: {name}",
        ["notify", *args.split(), "-c", "n.yaml"],
        {"n.yaml": NOTIFY_CFG, **files},
        needles,
    )


CASES += [
    fleet_case("empty file", "", "fleet.yaml:1", "a fleet file is a mapping"),
    fleet_case("not YAML, a sentence", "audit every org please\n", "fleet.yaml:1", "mapping"),
    fleet_case("a list", "- a\n- b\n", "fleet.yaml:1", "mapping"),
    fleet_case("broken YAML", "version: 1\norgs: [\n", "fleet.yaml:3", "invalid YAML"),
    fleet_case("unknown key", FLEET_A + "orgz: []\n", "fleet.yaml:4", "did you mean 'orgs'"),
    fleet_case("orgs missing", "version: 1\n", "fleet.yaml", "orgs"),
    fleet_case("orgs empty", "version: 1\norgs: []\n", "fleet.yaml:2", "lists no orgs"),
    fleet_case("orgs a mapping", "version: 1\norgs: {a: 1}\n", "fleet.yaml:2", "orgs"),
    fleet_case("org a string", "version: 1\norgs: [a]\n", "fleet.yaml:2", "orgs[0]"),
    fleet_case(
        "org without name", "version: 1\norgs:\n  - {source: live}\n", "orgs[0].name", "required"
    ),
    fleet_case("org without source", "version: 1\norgs:\n  - {name: a}\n", "no org source"),
    fleet_case("duplicate names", FLEET_A + "  - {name: a, source: live}\n", "orgs[1].name"),
    fleet_case("concurrency x", FLEET_A + "concurrency: x\n", "fleet.yaml:4", "concurrency"),
    fleet_case(
        "notify under an org",
        "version: 1\norgs:\n  - name: a\n    source: snapshot:org.json\n    notify:\n"
        "      - {type: webhook, url: 'https://hooks.example/x'}\n",
        "fleet.yaml:5",
        "orgs[0].notify",
        "move notify: to the top level",
    ),
    fleet_case("concurrency true", FLEET_A + "concurrency: true\n", "fleet.yaml:4", "concurrency"),
    fleet_case(
        "report url not http",
        FLEET_A + "report: {url: 'ftp://reports.example/fleet/'}\n",
        "fleet.yaml:4",
        "report.url",
        "http",
    ),
    fleet_case(
        "report format pdf",
        FLEET_A + "report: {formats: [pdf]}\n",
        "fleet.yaml:4",
        "report.formats",
    ),
    fleet_case(
        "missing defaults file",
        "version: 1\ndefaults: nope.yaml\n" + ORG_A,
        "nope.yaml",
        "not found",
    ),
    fleet_case(
        "defaults with an error",
        "version: 1\ndefaults: d.yaml\n" + ORG_A,
        "d.yaml:2",
        "did you mean 'fail_on'",
        files={"d.yaml": "version: 1\nfial_on: high\n"},
    ),
    fleet_case(
        "notify with a bad type",
        FLEET_A + "notify:\n  - {type: slak, url: 'https://hooks.example/x'}\n",
        "fleet.yaml:5",
        "notify[0].type",
        "did you mean 'slack'",
    ),
    fleet_case(
        "notify without url",
        FLEET_A + "notify:\n  - {type: slack}\n",
        "fleet.yaml:5",
        "notify[0]",
        "needs url",
    ),
    fleet_case(
        "notify url not http",
        FLEET_A + "notify:\n  - {type: webhook, url: 'ftp://hooks.example/x'}\n",
        "fleet.yaml:5",
        "notify[0].url",
    ),
    fleet_case(
        "notify not a list",
        FLEET_A + "notify: {type: slack}\n",
        "fleet.yaml:4",
        "notify",
    ),
    fleet_case(
        "env var unset in a URL",
        FLEET_A + "notify:\n  - {type: slack, url: '${SFAUDIT_TEST_UNSET_HOOK}'}\n",
        "fleet.yaml:5",
        "SFAUDIT_TEST_UNSET_HOOK is not set",
    ),
    Case(
        "fleet: unwritable output",
        ["fleet", "-c", "fleet.yaml", "-o", "org.json/roll"],
        {"fleet.yaml": FLEET_A},
        ("cannot write the roll-up",),
    ),
    Case("fleet: file missing", ["fleet", "-c", "nope.yaml"], {}, ("nope.yaml", "not found")),
    Case(
        "fleet: --only unknown org",
        ["fleet", "-c", "fleet.yaml", "--only", "b"],
        {"fleet.yaml": FLEET_A},
        ("--only", "'b'"),
    ),
    Case(
        "fleet: baseline not a fleet.json",
        ["fleet", "-c", "fleet.yaml", "--baseline", "r/report.json"],
        {"fleet.yaml": FLEET_A, "r/report.json": REPORT},
        ("r/report.json", "not an sfaudit fleet.json"),
    ),
    merge_case("missing file", {}, "nope.json", "no such report", args="nope.json"),
    merge_case("a folder without a report", {"d/x.txt": "x"}, "d", "no such report", args="d"),
    merge_case("invalid JSON", {"r/report.json": "{"}, "r/report.json", args="r/report.json"),
    merge_case("empty file", {"r/report.json": ""}, "r/report.json", args="r/report.json"),
    merge_case(
        "a fleet.json",
        {"r/fleet.json": FLEET_JSON},
        "r/fleet.json",
        "not an sfaudit report.json",
        args="r/fleet.json",
    ),
    merge_case(
        "report of another schema",
        {"r/report.json": json.dumps({"schema_version": 2, "verdict": "ready", "checks": []})},
        "r/report.json",
        "not an sfaudit report.json",
        args="r/report.json",
    ),
    merge_case(
        "report with checks that are not objects",
        {"r/report.json": json.dumps({"schema_version": 1, "verdict": "ready", "checks": [1]})},
        "r/report.json",
        "checks",
        args="r/report.json",
    ),
    merge_case(
        "report whose org is text",
        {"r/report.json": REPORT.replace('"org": {}', '"org": "acme"')},
        "r/report.json",
        "org",
        args="r/report.json",
    ),
    merge_case(
        "report whose blocking is a number",
        {"r/report.json": REPORT.replace('"checks": []', '"checks": [], "blocking": 3')},
        "r/report.json",
        "blocking",
        args="r/report.json",
    ),
    merge_case(
        "report with an unknown verdict",
        {"r/report.json": REPORT.replace('"verdict": "ready"', '"verdict": "maybe"')},
        "r/report.json",
        "verdict 'maybe'",
        args="r/report.json",
    ),
    notify_case(
        "a fleet.json with an unknown verdict",
        {"f.json": FLEET_JSON.replace('"orgs": []', '"orgs": [{"name": "a", "verdict": "soon"}]')},
        "f.json",
        "f.json",
        "orgs[0].verdict 'soon'",
    ),
    merge_case("no report", {}, "no report to merge", args=""),
    merge_case(
        "unwritable output",
        {"r/report.json": REPORT, "roll": "a file"},
        "'roll' is a file",
        args="r/report.json",
    ),
    merge_case("format pdf", {"r/report.json": REPORT}, "pdf", args="r/report.json --format pdf"),
    notify_case("missing report", {}, "nope.json", "nope.json"),
    notify_case("invalid JSON", {"r.json": "{"}, "r.json", "r.json"),
    notify_case("not a report", {"r.json": '{"a": 1}'}, "r.json", "r.json", "not an sfaudit"),
    notify_case(
        "a fleet.json whose orgs are not objects",
        {"f.json": FLEET_JSON.replace('"orgs": []', '"orgs": [1]')},
        "f.json",
        "f.json",
        "orgs",
    ),
    notify_case(
        "a report whose checks are not objects",
        {"r.json": json.dumps({"schema_version": 1, "verdict": "ready", "checks": ["x"]})},
        "r.json",
        "r.json",
        "checks",
    ),
    notify_case(
        "a report.json with a fleet.json as baseline",
        {"r.json": REPORT, "f.json": FLEET_JSON},
        "r.json --baseline f.json",
        "f.json",
        "report.json",
    ),
    notify_case(
        "a fleet.json with a report.json as baseline",
        {"f.json": FLEET_JSON, "r.json": REPORT},
        "f.json --baseline r.json",
        "r.json",
        "fleet.json",
    ),
    notify_case("neither --test nor a report", {}, "", "pass --test or a report.json"),
    Case(
        "notify: config without channels",
        ["notify", "--test", "-c", "n.yaml"],
        {"n.yaml": "version: 1\n"},
        ("no notify: channels",),
    ),
    Case(
        "notify: channel of unknown type",
        ["notify", "--test", "-c", "n.yaml"],
        {"n.yaml": "version: 1\nnotify:\n  - {type: teems, url: 'https://x.example/y'}\n"},
        ("n.yaml:3", "notify[0].type", "did you mean 'teams'"),
    ),
    Case(
        "notify: email without host",
        ["notify", "--test", "-c", "n.yaml"],
        {"n.yaml": "version: 1\nnotify:\n  - {type: email, to: [a@b.example]}\n"},
        ("n.yaml:3", "notify[0]", "needs"),
    ),
    Case(
        "notify: on with an unknown event",
        ["notify", "--test", "-c", "n.yaml"],
        {
            "n.yaml": "version: 1\nnotify:\n  - {type: webhook, url: 'https://x.example/y', on: [sometimes]}\n"
        },
        ("n.yaml:3", "notify[0].on"),
    ),
]

LOOSE = "version: 1\norg: {source: snapshot:org.json}\n"
CASES += [
    Case(
        f"config: {name}",
        ["run", "-c", "a.yaml"],
        {"a.yaml": LOOSE + text},
        needles,
    )
    for name, text, needles in [
        (
            "installed-packages.handled not a list",
            "checks:\n  installed-packages: {handled: acme}\n",
            ("a.yaml:4", "checks.installed-packages.handled", "a list"),
        ),
        (
            "integrations.active_days 0",
            "checks:\n  integrations: {active_days: 0}\n",
            ("a.yaml:4", "checks.integrations.active_days", "1 or more"),
        ),
        (
            "integrations.active_days x",
            "checks:\n  integrations: {active_days: x}\n",
            ("a.yaml:4", "checks.integrations.active_days", "a number"),
        ),
        (
            "integrations.active_days true",
            "checks:\n  integrations: {active_days: true}\n",
            ("a.yaml:4", "checks.integrations.active_days"),
        ),
        (
            "integrations.active_days 1.5",
            "checks:\n  integrations: {active_days: 1.5}\n",
            ("a.yaml:4", "checks.integrations.active_days", "whole number"),
        ),
        (
            "contract.data_return_days -1",
            "contract:\n  data_return_days: -1\n",
            ("a.yaml:4", "contract.data_return_days"),
        ),
        (
            "contract.deletion_days x",
            "contract:\n  deletion_days: x\n",
            ("a.yaml:4", "contract.deletion_days"),
        ),
        (
            "contract.data_return_days true",
            "contract:\n  data_return_days: true\n",
            ("a.yaml:4", "contract.data_return_days", "whole number"),
        ),
        (
            "contract.deletion_days before data_return_days",
            "contract:\n  data_return_days: 60\n  deletion_days: 30\n",
            ("a.yaml:5", "contract.deletion_days", "before data_return_days 60"),
        ),
        (
            "report.url not http",
            "report: {url: reports.example/x}\n",
            ("a.yaml:3", "report.url", "http"),
        ),
    ]
]


def test_matrix_has_at_least_forty_distinct_inputs() -> None:
    assert len({c.name for c in CASES}) == len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    small_org().write(tmp_path / "org.json")
    (tmp_path / "my_checks.py").write_text(PLUGIN)
    for name, content in case.files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup:
        case.setup(tmp_path)
    own_output = case.args[0] == "run" and "-o" not in case.args
    result = cli(*case.args, "-o", str(tmp_path / "out")) if own_output else cli(*case.args)
    output = result.output
    assert result.exit_code == case.code, output
    assert "Traceback" not in output
    for needle in case.needles:
        assert needle in output, f"{needle!r} not in {output!r}"
    assert FIX.search(output), f"no fix offered in {output!r}"
    report = tmp_path / "out" / "report.json"
    if case.code == 2:
        assert not report.exists(), "an input error writes no report"
    assert not report.exists() or json.loads(report.read_text())["verdict"] != "ready"
