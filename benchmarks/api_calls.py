"""How many API requests does a full live audit make? Large orgs in the local emulator.

For each size, builds an org with 25 standard objects and N custom objects (three in
five ownable, counts in the millions, virtual), 20,000 users and realistic ownership,
serves it from the HTTPS emulator, runs a full audit through the live source (the real
simple-salesforce, page size 2,000), and prints the requests the emulator received, by
kind, next to what the README's formula (``sfaudit.sources.live.audit_requests``) says.
The targets: at most 40 requests at 500 custom objects, at most 100 at 2,000.

    .venv/bin/python benchmarks/api_calls.py [--custom 100,500,1000,2000] [--users 20000]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote

from sfaudit.audit import Audit
from sfaudit.config import load_config
from sfaudit.plugins import get_plugin_manager
from sfaudit.sources.live import _NEVER_OWNABLE
from sfaudit.sources.model import OrgData
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import LoggedRequest, SalesforceEmulator

USERNAME, PASSWORD, TOKEN = "audit.bot@bench.example", "bench-password", "benchTOKEN123"


STANDARD = [
    "Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event", "Campaign",
    "Contract", "Order", "Quote", "Asset", "Solution", "Idea", "Document", "Note",
    "Attachment", "ContentVersion", "CampaignMember", "OpportunityLineItem", "Product2",
    "Pricebook2", "PricebookEntry", "EmailMessage", "ContentDocumentLink",
]  # fmt: skip
#: Standard objects without an owner (a detail of their parent, or never owned).
UNOWNED = {
    "CampaignMember", "OpportunityLineItem", "Product2", "Pricebook2", "PricebookEntry",
    "ContentDocumentLink", "Idea", "Solution",
}  # fmt: skip


def build_org(users: int, custom: int) -> OrgData:
    """A large org; record counts are virtual (weighted rows), so millions cost nothing."""
    now = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    b = OrgBuilder(name="Bench Corp")
    b.user(USERNAME, profile="System Administrator", admin=True, last_login=now)
    custodian = b.user("archive@bench.example", last_login=now)
    people = [
        b.user(
            f"user{i:06d}@bench.example",
            active=i % 4 != 0,
            frozen=i % 97 == 0,
            admin=i % 1000 == 1,
            last_login=now - dt.timedelta(days=i % 400),
        )
        for i in range(users - 2)
    ]
    b.license("Salesforce", users)
    queues = [b.queue(f"Queue {i}") for i in range(20)]
    names = STANDARD + [f"Custom{i:04d}__c" for i in range(custom)]
    for i, name in enumerate(names):
        count = 5_000 + (i * 7919) % 2_000_000
        is_ownable = name not in UNOWNED and (name in STANDARD or i % 5 < 3)
        b.object(name, count, ownable=is_ownable, queue_ownable=is_ownable and i % 5 == 0)
        if is_ownable:
            b.own(name, custodian, count // 2)
            for k in range(12):
                b.own(name, people[(i * 31 + k * 1663) % len(people)], count // 40)
            if i % 5 == 0:
                b.own(name, queues[i % len(queues)], count // 50)
    for i in range(40):
        b.job(f"Job {i}", str(1 + i % 9), next_fire=now + dt.timedelta(hours=i))
    return b.build()


CONFIG = """\
version: 1
today: 2026-11-26
org: {source: live, page_size: 2000}
contract: {start_date: 2026-02-01, end_date: 2027-01-31}
checks:
  record-ownership: {custodians: [archive@bench.example]}
report: {formats: [json], output: reports}
"""


def kind(entry: LoggedRequest) -> str:
    if entry.is_login:
        return "login"
    body = unquote(entry.body)
    if entry.path.endswith("/composite/batch"):
        if "GROUP BY OwnerId" in body:
            return "batch: ownership GROUP BY"
        if "/describe" in body:
            return "batch: object describes"
        if '/limits"' in body:
            return "batch: limits + record counts + org + licences + queues + jobs"
        if 'sobjects"' in body:
            return "batch: describe global"
        if "SELECT COUNT() FROM" in body:
            return "batch: COUNT() of objects recordCount leaves out"
        if "InstalledSubscriberPackage" in body or "OauthToken" in body:
            return "batch: loose ends (packages, integrations, inbound mail, sites)"
        if "FROM User" in body:
            return "batch: users + admins + frozen"
        if "tooling/query" in body:
            return "batch: metadata inventory"
        return "batch: other"
    if "/query/01g" in entry.path:
        return "queryMore"
    return f"GET {entry.path.rsplit('/', 1)[-1] or entry.path}"


def measure(users: int, custom: int) -> dict[str, object]:
    """One full audit of an org of this size: requests, by kind, and what it found."""
    data = build_org(users, custom)
    with SalesforceEmulator(data) as emu, tempfile.TemporaryDirectory() as tmp:
        emu.add_login(USERNAME, PASSWORD, TOKEN)
        os.environ.update(
            SF_USERNAME=USERNAME,
            SF_PASSWORD=PASSWORD,
            SF_SECURITY_TOKEN=TOKEN,
            SF_LOGIN_URL=emu.url,
            REQUESTS_CA_BUNDLE=emu.ca_path,
            NO_PROXY="127.0.0.1",
        )
        for name in ("SF_ACCESS_TOKEN", "SF_CONSUMER_KEY", "SF_CONSUMER_SECRET", "SF_JWT_KEY_FILE"):
            os.environ.pop(name, None)
        config_path = Path(tmp) / "bench.yaml"
        config_path.write_text(CONFIG, encoding="utf-8")
        config = load_config(config_path)
        started = time.perf_counter()
        with Audit(config, get_plugin_manager(entry_points=False)) as audit:
            report = audit.run()
        elapsed = time.perf_counter() - started
        return {
            "total": len(emu.log),
            "writes": len(emu.writes()),
            "by_kind": collections.Counter(kind(e) for e in emu.log),
            "checks": ", ".join(f"{c.id}={c.status}" for c in report.checks),
            "api_requests": report.metrics.get("api_requests"),
            "seconds": elapsed,
            # what the formula calls objects: those with records that may have an owner
            "asked": sum(
                1
                for o in emu.model.objects.values()
                if (o.count or 0) > 0 and not o.name.endswith(_NEVER_OWNABLE)
            ),
        }


TARGETS = {500: 40, 2000: 100}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--custom", default="100,500,1000,2000", help="custom objects, a list")
    args = parser.parse_args()

    from sfaudit.sources.live import audit_requests

    ok = True
    rows = []
    for custom in [int(n) for n in args.custom.split(",") if n.strip()]:
        got = measure(args.users, custom)
        formula = audit_requests(int(str(got["asked"])), args.users, 2000)
        target = TARGETS.get(custom)
        ok &= got["writes"] == 0 and (target is None or int(str(got["total"])) <= target)
        print(
            f"{custom:,} custom + {len(STANDARD)} standard objects "
            f"({got['asked']} with records, setup objects included), {args.users:,} users:"
        )
        print(f"  checks: {got['checks']}")
        by_kind = got["by_kind"]
        assert isinstance(by_kind, collections.Counter)
        for name, n in sorted(by_kind.items(), key=lambda kv: -kv[1]):
            print(f"    {n:3d}  {name}")
        print(
            f"  requests: {got['total']} (login included; formula {formula}"
            + (f"; target <= {target}" if target else "")
            + f"), writes: {got['writes']}, audit {got['seconds']:.1f}s"
        )
        rows.append((custom, got["total"], formula, target))
    print()
    print("| custom objects | requests | formula 5 + ⌈users ÷ 2,000⌉ + ⌈objects ÷ 25⌉ | target |")
    print("|---:|---:|---:|---:|")
    for custom, total, formula, target in rows:
        print(f"| {custom:,} | {total} | {formula} | {'≤ ' + str(target) if target else ''} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
