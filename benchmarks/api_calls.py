"""How many API requests does a full live audit make? A large org in the local emulator.

Builds an org with 500 objects (300 ownable, counts in the millions, virtual),
20,000 users and realistic ownership, serves it from the HTTPS emulator, runs a
full audit through the live source (the real simple-salesforce), and prints the
requests the emulator received, by kind. The target is at most 50.

    .venv/bin/python benchmarks/api_calls.py [--users 20000] [--objects 500] [--ownable 300]
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

from sfaudit.config import load_config
from sfaudit.audit import Audit
from sfaudit.plugins import get_plugin_manager
from sfaudit.sources.model import OrgData
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import LoggedRequest, SalesforceEmulator

USERNAME, PASSWORD, TOKEN = "audit.bot@bench.example", "bench-password", "benchTOKEN123"


def build_org(users: int, objects: int, ownable: int) -> OrgData:
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
    standard = ["Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event", "Campaign"]
    names = standard + [f"Custom{i:03d}__c" for i in range(objects - len(standard))]
    for i, name in enumerate(names):
        count = 5_000 + (i * 7919) % 2_000_000
        is_ownable = i < ownable
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
org: {source: live}
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
            return "batch: limits + org + licences + queues + jobs"
        if "recordCount" in body:
            return "batch: describe global + recordCount"
        if "FROM User" in body:
            return "batch: users + admins + frozen"
        return "batch: other"
    if "/query/01g" in entry.path:
        return "queryMore"
    return f"GET {entry.path.rsplit('/', 1)[-1] or entry.path}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--ownable", type=int, default=300)
    args = parser.parse_args()

    started = time.perf_counter()
    data = build_org(args.users, args.objects, args.ownable)
    records = sum(o.count or 0 for o in data.objects or [])
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
        built = time.perf_counter()
        with Audit(config, get_plugin_manager(entry_points=False)) as audit:
            report = audit.run()
        elapsed = time.perf_counter() - built
        by_kind = collections.Counter(kind(e) for e in emu.log)
        total = len(emu.log)
        writes = len(emu.writes())

    print(
        f"org: {args.objects} objects ({args.ownable} ownable), {args.users:,} users, {records:,} records"
    )
    print(f"checks: {', '.join(f'{c.id}={c.status}' for c in report.checks)}")
    for name, n in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"  {n:3d}  {name}")
    print(
        f"API requests for a full audit: {total} (login included; target <= 50); writes: {writes}"
    )
    print(
        f"report metrics: api_requests={report.metrics.get('api_requests')}, "
        f"api_daily_remaining={report.metrics.get('api_daily_remaining')}"
    )
    print(f"time: audit {elapsed:.1f}s (org build {built - started:.1f}s)")
    return 0 if total <= 50 and writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
