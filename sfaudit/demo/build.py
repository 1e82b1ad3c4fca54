"""Generate the bundled demo org, Acme Corp: ``python -m sfaudit.demo.build``.

Deterministic, so the committed ``org.json`` can be regenerated and diffed.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from ..testing.builders import OrgBuilder

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.timezone.utc)

FIRST = [
    "anna",
    "bram",
    "chris",
    "daan",
    "eva",
    "femke",
    "gijs",
    "hanna",
    "ivo",
    "jesse",
    "kim",
    "lars",
    "maud",
    "noah",
    "olivia",
    "pieter",
    "quinten",
    "roos",
    "sem",
    "tess",
    "ugo",
    "vera",
    "wout",
    "xander",
    "yara",
    "zoe",
]
LAST = [
    "de vries",
    "jansen",
    "bakker",
    "visser",
    "smit",
    "meijer",
    "mulder",
    "bos",
    "vos",
    "peters",
    "hendriks",
    "dekker",
    "brouwer",
    "dijkstra",
]


def build() -> OrgBuilder:
    rnd = random.Random(20261126)
    b = OrgBuilder(org_id="00D5g000000ACMEEA2", name="Acme Corp", edition="Enterprise Edition")

    def ago(days: float) -> dt.datetime:
        return NOW - dt.timedelta(days=days, hours=rnd.randint(0, 10))

    def person(i: int) -> tuple[str, str]:
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        return f"{first}.{last.replace(' ', '')}@acme.example", f"{first.title()} {last.title()}"

    admins = [
        b.user(
            "admin@acme.example",
            name="Sanne Admin",
            profile="System Administrator",
            admin=True,
            last_login=ago(1),
        ),
        b.user(
            "it.lead@acme.example",
            name="Tom IT",
            profile="System Administrator",
            admin=True,
            last_login=ago(3),
        ),
        b.user(
            "ops.manager@acme.example",
            name="Olga Ops",
            profile="Standard User",
            admin=True,
            admin_via=("permset:Modify_All_Data_Ops",),
            last_login=ago(12),
        ),
    ]
    custodian = b.user(
        "archive@acme.example", name="Acme Archive", profile="Standard User", last_login=ago(2)
    )
    b.user(
        "support@acme.example", name="Vendor Support", profile="Support Agent", last_login=ago(40)
    )
    active = [custodian]
    for i in range(16):
        username, name = person(i)
        stale = i % 5 == 4
        active.append(
            b.user(
                username,
                name=name,
                profile="Sales User" if i % 3 else "Service User",
                last_login=ago(rnd.randint(120, 300) if stale else rnd.randint(0, 20)),
            )
        )
    inactive = []
    for i in range(16, 26):
        username, name = person(i)
        inactive.append(
            b.user(
                username,
                name=name,
                active=False,
                profile="Sales User",
                last_login=ago(rnd.randint(60, 400)),
            )
        )
    for username, name in [
        ("lotte.kramer@acme.example", "Lotte Kramer"),
        ("mees.kok@acme.example", "Mees Kok"),
    ]:
        b.user(username, name=name, frozen=True, profile="Sales User", last_login=ago(30))
    for i, company in enumerate(["northwind", "contoso", "fabrikam"]):
        b.user(
            f"partner@{company}.example",
            name=f"{company.title()} Partner",
            user_type="PowerPartner",
            profile="Partner Community User",
            license="Partner Community",
            last_login=ago(5 + 30 * i),
        )
    for i in range(3):
        b.user(
            f"chatter{i + 1}@acme.example",
            name=f"Chatter Only {i + 1}",
            profile="Chatter Free User",
            license="Chatter Free",
            last_login=ago(rnd.randint(1, 200)),
        )
    b.user(
        "autoproc@00d5g000000acmeea2",
        name="Automated Process",
        user_type="AutomatedProcess",
        profile="",
        license="",
        last_login=None,
    )
    b.user(
        "integration@00d5g000000acmeea2.com",
        name="Integration User",
        user_type="CloudIntegrationUser",
        profile="Salesforce API Only System Integrations",
        license="Salesforce Integration",
        last_login=ago(1),
    )
    b.user(
        "platform.integration@acme.example",
        name="Platform Integration User",
        profile="Platform Integration User",
        license="Salesforce Platform",
        user_type="Standard",
        last_login=ago(2),
    )
    b.license("Salesforce", 30).license("Salesforce Platform", 10).license("Partner Community", 10)
    b.license("Chatter Free", 5000).license("Salesforce Integration", 5)

    lead_queue = b.queue("Web Leads")
    case_queue = b.queue("Tier 1 Support")

    objects: dict[str, int] = {
        "Account": 1180,
        "Contact": 2640,
        "Opportunity": 812,
        "Lead": 930,
        "Case": 655,
        "Task": 3120,
        "Event": 410,
        "Campaign": 24,
        "Contract": 41,
        "Asset": 118,
        "Deal__c": 304,
        "Invoice__c": 1096,
        "Project__c": 77,
    }
    for name, count in objects.items():
        b.object(name, count, ownable=True, queue_ownable=name in ("Lead", "Case"))
    for name, count in {
        "Attachment": 126,
        "Document": 14,
        "ContentVersion": 92,
        "Note": 48,
        "Product2": 60,
        "Pricebook2": 3,
        "PricebookEntry": 180,
        "CampaignMember": 410,
        "OpportunityLineItem": 1530,
        "User": 0,
        "Invoice_Line__c": 4210,
    }.items():
        b.object(name, count, ownable=False)
    b.object("AccountHistory", 5200, replicateable=False, ownable=False)
    # As in a real describe global: replicateable objects with records that a Data Export
    # never writes (setup, security), and some it writes under other names.
    for name, count in {
        "Organization": 1,
        "Profile": 24,
        "PermissionSet": 41,
        "Group": 9,
        "FeedItem": 640,
        "CaseHistory": 1310,
    }.items():
        b.object(name, count, ownable=False)

    for name, total in objects.items():
        left = total
        if name == "Lead":
            b.own(name, lead_queue, 140)
            left -= 140
        if name == "Case":
            b.own(name, case_queue, 85)
            left -= 85
        departed = inactive[: 4 + rnd.randint(0, 5)]
        for user in departed:
            if rnd.random() < 0.55:
                n = max(1, int(total * rnd.uniform(0.005, 0.05)))
                b.own(name, user, n)
                left -= n
        owners = [*admins, *active]
        weights = [rnd.random() for _ in owners]
        scale = left / sum(weights)
        shares = [int(w * scale) for w in weights]
        shares[0] += left - sum(shares)
        for user, n in zip(owners, shares, strict=True):
            if n > 0:
                b.own(name, user, n)

    sunday = NOW + dt.timedelta(days=(6 - NOW.weekday()) % 7 or 7)
    b.job(
        "Weekly Data Export",
        "1",
        next_fire=sunday,
        previous_fire=sunday - dt.timedelta(days=7),
        cron="0 0 2 ? * SUN",
        owner=admins[0],
    )
    b.job(
        "NightlyInvoiceSync",
        "7",
        next_fire=NOW + dt.timedelta(hours=17),
        previous_fire=NOW - dt.timedelta(hours=7),
        cron="0 0 2 * * ?",
        owner=admins[1],
    )
    b.job(
        "Pipeline dashboard refresh",
        "3",
        next_fire=NOW + dt.timedelta(days=1),
        cron="0 0 6 * * ?",
        owner=active[3],
    )
    b.job(
        "Monthly revenue snapshot",
        "4",
        next_fire=NOW + dt.timedelta(days=6),
        cron="0 0 1 1 * ?",
        owner=admins[0],
    )
    b.job(
        "Renewal reminder flow",
        "6",
        state="WAITING",
        next_fire=NOW + dt.timedelta(hours=3),
        cron="0 0 * * * ?",
        owner=admins[2],
    )
    b.job(
        "Dedupe contacts batch",
        "9",
        state="COMPLETE",
        previous_fire=NOW - dt.timedelta(days=20),
        cron="0 0 3 1 * ?",
        owner=admins[1],
    )
    b.job(
        "Legacy ERP push",
        "7",
        state="PAUSED",
        previous_fire=NOW - dt.timedelta(days=90),
        cron="0 30 4 * * ?",
        owner=inactive[0],
    )

    # What bills, breaks or stays open after cancelling: one of each.
    b.package(
        "APXTConga4",
        "Conga Composer",
        version="Winter '26 (4.12.0)",
        seats=(40, 31),
        expiration=dt.date(2027, 6, 30),
    )
    b.package("OrgCheck", "Org Check (Salesforce Labs)", version="4.3 (4.3.0)", status="")
    erp = b.connected_app("NetSuite Connector")
    outlook = b.connected_app("Salesforce for Outlook")
    b.connected_app("Old Marketing Sync")
    b.token(erp, admins[1], last_used=NOW - dt.timedelta(days=1, hours=3), use_count=1840)
    for i, user in enumerate(active[1:8]):
        b.token(outlook, user, last_used=NOW - dt.timedelta(days=2 + i * 4), use_count=20 + i)
    b.token("Old Marketing Sync", inactive[0], last_used=NOW - dt.timedelta(days=200))
    b.named_credential("ERP_Invoices", "https://erp.acme-internal.example/api/v2")
    b.remote_site("Mailchimp", "https://us21.api.mailchimp.com")
    b.remote_site("Legacy_Fax", "https://fax.example.net", active=False)
    b.outbound_message("Order_to_Warehouse", "Order")
    b.email_service("invoice_inbox", "x1y2z3abc.eu45.apex.salesforce.com")
    b.email_to_case("support@acme.example", "Acme Support")
    b.org_wide_address("noreply@acme.example", "Acme Corp")
    b.site(
        "Acme Help Center",
        url="https://acme.my.salesforce-sites.com/help",
        guest_user=None,
    )
    b.network(
        "Acme Partner Portal", status="UnderConstruction", url="https://acme.my.site.com/partners"
    )

    b.query("SELECT COUNT() FROM Case WHERE IsClosed = false", 37)
    b.query("SELECT COUNT() FROM Opportunity WHERE IsClosed = false", 112)
    # Over its data quota (GET /limits/ answers a negative Remaining), as orgs often are.
    b.storage(data=(5402, 5120), file=(14950, 20480))
    return b


def main() -> None:
    from ..sources.snapshot import write_snapshot
    from . import demo_metadata

    target = Path(__file__).with_name("org.json")
    data = demo_metadata().attach(build().build())
    write_snapshot(data, target, source="builder", recorded_at=NOW)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
