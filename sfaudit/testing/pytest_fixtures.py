"""Pytest fixtures for the local Salesforce emulator; enable them in a ``conftest.py``::

    pytest_plugins = ["sfaudit.testing.pytest_fixtures"]

- ``sf_emulator`` (session): one HTTPS emulator for the whole test session;
- ``emulator``: that emulator, reset (log, faults, sessions) and serving :func:`sample_org`;
- ``sf_env``: ``SF_*`` variables and ``REQUESTS_CA_BUNDLE`` set so that ``--source live``
  logs in to the emulator (username + password + security token); returns the logins.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..sources._auth import ENV_VARS
from ..sources.model import OrgData
from .builders import OrgBuilder
from .emulator import SalesforceEmulator

USERNAME = "audit.bot@acme.example"
PASSWORD = "Corr3ct-Horse-Battery"
SECURITY_TOKEN = "tK9sECURITYt0ken"
CONSUMER_KEY = "3MVG9sfauditEmulatorConsumerKey"
CONSUMER_SECRET = "C0nsumerS3cretForTheEmulator"
MY_DOMAIN = "acme.my"


def sample_org(users: int = 40, *, seed_time: dt.datetime | None = None) -> OrgData:
    """A small, varied org: admins, inactive and frozen users, queues, jobs, licences."""
    now = seed_time or dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
    b = OrgBuilder(name="Acme Emulated")
    admin = b.user("admin@acme.example", profile="System Administrator", admin=True, last_login=now)
    b.user(USERNAME, profile="System Administrator", admin=True, last_login=now)
    b.user("ops@acme.example", admin=True, admin_via=("permset:Modify_All_Ops",), last_login=now)
    b.user("autoproc@00d.example", user_type="AutomatedProcess", profile="", license="")
    custodian = b.user("archive@acme.example", last_login=now - dt.timedelta(days=2))
    gone = b.user("gone@acme.example", active=False, last_login=now - dt.timedelta(days=400))
    frozen = b.user("frozen@acme.example", frozen=True, last_login=now - dt.timedelta(days=30))
    staff = [
        b.user(
            f"user{i:05d}@acme.example",
            active=i % 3 != 0,
            last_login=now - dt.timedelta(days=i % 90) if i % 5 else None,
        )
        for i in range(max(0, users - 7))
    ]
    b.license("Salesforce", 60)
    b.license("Salesforce Platform", 10, used=2)
    queue = b.queue("Web Leads")
    b.object("Account", 1200, ownable=True).object("Contact", 3400, ownable=True)
    b.object("Lead", 900, ownable=True, queue_ownable=True).object(
        "Case", 0, ownable=True, queue_ownable=True
    )
    b.object("Invoice__c", 500, ownable=True).object("Country__mdt", 40).object("AccountHistory", 0)
    b.object("Product2", 75).object("Opportunity", 800, ownable=True).object("NamedCredential", 1)
    b.query(
        "SELECT DeveloperName, Endpoint FROM NamedCredential",
        1,
        [
            {
                "attributes": {"type": "NamedCredential"},
                "DeveloperName": "ERP",
                "Endpoint": "https://erp.acme.example",
            }
        ],
    )
    b.own("Account", admin, 700).own("Account", gone, 300).own("Account", custodian, 200)
    b.own("Contact", gone, 1400).own("Contact", frozen, 2000)
    b.own("Lead", queue, 600).own("Lead", admin, 300).own("Opportunity", admin, 800)
    b.own("Invoice__c", custodian, 450).own("Invoice__c", gone, 50)
    for i, user in enumerate(staff[:5]):
        b.own("Account", user, 10 + i)
    b.job("Weekly Data Export", "1", next_fire=now + dt.timedelta(days=3), owner=admin)
    b.job("NightlyInvoiceSync", "7", next_fire=now + dt.timedelta(hours=9), owner=gone)
    b.job("Old batch", "9", state="COMPLETE", previous_fire=now - dt.timedelta(days=60))
    b.storage(data=(1120, 5120), file=(2480, 20480))
    return b.build()


@dataclass
class EmulatorLogins:
    """What the emulator accepts; ``jwt_key_file`` is a PEM private key for the JWT flow."""

    url: str
    ca_path: str
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    jwt_key_file: str
    my_domain: str


def _rsa_pair() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


@pytest.fixture(scope="session")
def sf_emulator() -> Iterator[SalesforceEmulator]:
    """One emulator (HTTPS on 127.0.0.1, its own test CA) for the test session."""
    private, public = _rsa_pair()
    with tempfile.TemporaryDirectory(prefix="sfaudit-jwt-") as tmp:
        key_file = Path(tmp) / "server.key"
        key_file.write_bytes(private)
        emu = SalesforceEmulator(sample_org())
        emu.add_login(USERNAME, PASSWORD, SECURITY_TOKEN)
        emu.add_connected_app(CONSUMER_KEY, CONSUMER_SECRET, public_key_pem=public, run_as=USERNAME)
        emu.jwt_key_file = str(key_file)
        with emu:
            yield emu


@pytest.fixture
def emulator(sf_emulator: SalesforceEmulator) -> SalesforceEmulator:
    """The session's emulator, reset and serving :func:`sample_org` (``load()`` another)."""
    sf_emulator.reset()
    sf_emulator.load(sample_org())
    return sf_emulator


@pytest.fixture
def sf_env(emulator: SalesforceEmulator, monkeypatch: pytest.MonkeyPatch) -> EmulatorLogins:
    """Environment for ``--source live`` against the emulator (SOAP login flow)."""
    for name in (*ENV_VARS, "SF_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SF_USERNAME", USERNAME)
    monkeypatch.setenv("SF_PASSWORD", PASSWORD)
    monkeypatch.setenv("SF_SECURITY_TOKEN", SECURITY_TOKEN)
    monkeypatch.setenv("SF_DOMAIN", "login")
    monkeypatch.setenv("SF_LOGIN_URL", emulator.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    monkeypatch.setenv("CURL_CA_BUNDLE", emulator.ca_path)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return EmulatorLogins(
        url=emulator.url,
        ca_path=emulator.ca_path,
        username=USERNAME,
        password=PASSWORD,
        security_token=SECURITY_TOKEN,
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        jwt_key_file=emulator.jwt_key_file or "",
        my_domain=MY_DOMAIN,
    )


PROBE_PLUGIN = '''\
"""Checks that read every facade section, so audits compare them (emulator tests)."""
from sfaudit.registry import check
from sfaudit.results import Finding


@check("probe-facade", severity="low", title="Every facade section, as metrics")
def probe_facade(org, metrics):
    users = org.users()
    metrics["users"] = len(users)
    metrics["admins"] = sorted(
        u.username + "|" + ",".join(u.admin_via) for u in users if u.is_admin
    )
    metrics["frozen"] = sorted(u.username for u in users if u.is_frozen)
    metrics["objects"] = sorted(
        [o.name, o.ownable, o.queue_ownable, o.count, o.custom] for o in org.objects()
    )
    metrics["licenses"] = sorted([l.name, l.total, l.used] for l in org.licenses())
    metrics["queues"] = sorted(q.name for q in org.queues())
    metrics["jobs"] = sorted(
        [j.name, j.job_type, j.state, str(j.next_fire)] for j in org.scheduled_jobs()
    )
    metrics["active"] = org.count("User", where="IsActive = true")
    inactive = org.query("SELECT Username FROM User WHERE IsActive = false")
    metrics["inactive"] = sorted(r["Username"] for r in inactive)
    for row in org.ownership(custodians=["archive@acme.example"]):
        yield Finding(message=f"{row.count} {row.object} owned by {row.owner}", severity="info",
                      object=row.object, owner=row.owner, count=row.count, key=row.reason)
'''

LIVE_CONFIG = """\
version: 1
today: 2026-11-26
org:
  source: live
contract:
  start_date: 2026-02-01
  end_date: 2027-01-31
  notice_days: 30
checks:
  record-ownership: {custodians: [archive@acme.example]}
plugins: [probe_facade.py]
report: {formats: [json], output: reports}
"""


@pytest.fixture
def live_config(tmp_path: Path) -> Path:
    """A config auditing ``--source live`` (the emulator's :func:`sample_org` under
    ``sf_env``), with a probe plugin whose check reads every facade section."""
    (tmp_path / "probe_facade.py").write_text(PROBE_PLUGIN, encoding="utf-8")
    path = tmp_path / "live.yaml"
    path.write_text(LIVE_CONFIG, encoding="utf-8")
    return path
