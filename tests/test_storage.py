"""Data and file storage from GET /limits/: live, recorded, in the header and the backup metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from sfaudit.audit import run_audit
from sfaudit.config import apply_overrides, load_config
from sfaudit.errors import DataUnavailable, InputError
from sfaudit.plugins import get_plugin_manager
from sfaudit.recording import record_snapshot
from sfaudit.report import ReportContext
from sfaudit.report.html import render_html
from sfaudit.report.markdown import render_markdown
from sfaudit.results import AuditReport
from sfaudit.sources._auth import from_env
from sfaudit.sources.live import LiveOrg
from sfaudit.sources.model import Storage, StorageUse
from sfaudit.sources.snapshot import SnapshotOrg, load_snapshot, parse_snapshot
from sfaudit.testing import OrgBuilder
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins, sample_org
from tests.report_samples import demo_report

ROOT = Path(__file__).resolve().parents[1]
OVER_QUOTA = Storage(data=StorageUse(allowed=5120, used=5700), file=StorageUse(20480, 2480))


def _over_quota_org() -> OrgBuilder:
    b = OrgBuilder(name="Full Org")
    b.user("admin@full.example", profile="System Administrator", admin=True)
    b.object("Account", 10, ownable=True)
    return b.storage(data=(5700, 5120), file=(2480, 20480))


def test_limits_entries_become_used_and_allowed() -> None:
    storage = Storage.from_limits(
        {
            "DailyApiRequests": {"Max": 15000, "Remaining": 14998},
            "DataStorageMB": {"Max": 5120, "Remaining": -580},
            "FileStorageMB": {"Max": 20480, "Remaining": 18000},
        }
    )
    assert storage == OVER_QUOTA
    assert storage.data is not None and storage.data.over_quota
    assert storage.file is not None and not storage.file.over_quota
    assert storage.to_limits() == {
        "DataStorageMB": {"Max": 5120, "Remaining": -580},
        "FileStorageMB": {"Max": 20480, "Remaining": 18000},
    }
    assert storage.to_dict() == {
        "data_storage_mb": {"used": 5700, "allowed": 5120},
        "file_storage_mb": {"used": 2480, "allowed": 20480},
    }
    # Nothing usable: unknown, never zero.
    assert Storage.from_limits({"DailyApiRequests": {"Max": 1, "Remaining": 1}}) is None
    assert Storage.from_limits({"DataStorageMB": {"Max": "lots", "Remaining": 1}}) is None
    assert Storage.from_limits({"DataStorageMB": {"Max": True, "Remaining": 1}}) is None
    assert Storage.from_limits(None) is None
    half = Storage.from_limits({"FileStorageMB": {"Max": 100, "Remaining": 100}})
    assert half == Storage(file=StorageUse(allowed=100, used=0))
    assert half.to_dict()["data_storage_mb"] is None


def test_emulator_serves_the_documented_limits_shape(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.load(_over_quota_org().build())
    org = LiveOrg(from_env(dict(os.environ)), login_url=sf_env.url)
    raw = org.sf.restful("limits/")
    assert raw["DataStorageMB"] == {"Max": 5120, "Remaining": -580}
    assert raw["FileStorageMB"] == {"Max": 20480, "Remaining": 18000}
    assert raw["DailyApiRequests"]["Max"] == 15000


def test_live_storage_costs_no_request_of_its_own(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator
) -> None:
    emulator.load(_over_quota_org().build())
    org = LiveOrg(from_env(dict(os.environ)), login_url=sf_env.url)
    before = len(emulator.api_requests())
    assert org.storage() == OVER_QUOTA
    assert len(emulator.api_requests()) == before
    urls = [r.path for r in emulator.api_requests()]
    for r in emulator.api_requests():
        if r.path.endswith("/composite/batch"):
            urls += [str(sub["url"]) for sub in json.loads(r.body)["batchRequests"]]
    # The opening batch's /limits, and nothing else.
    assert [u for u in urls if u.rstrip("/").endswith("/limits")] == ["v59.0/limits"]


def test_live_without_storage_figures_says_so(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    b = OrgBuilder(name="No Storage")
    b.user("admin@x.example", profile="System Administrator", admin=True)
    b.user("archive@acme.example")  # the config's custodian
    emulator.load(b.build())
    org = LiveOrg(from_env(dict(os.environ)), login_url=sf_env.url)
    with pytest.raises(DataUnavailable, match="no DataStorageMB or FileStorageMB"):
        org.storage()
    report = run_audit(load_config(live_config), get_plugin_manager(entry_points=False))
    assert report.org["storage"] is None
    backup = report.check("backup-completeness")
    assert "data_storage_mb" not in backup.metrics and str(backup.status) == "fail"
    # No check needs storage: a recording without it is complete (`sfaudit snapshot` exits 0).
    config = load_config(live_config)
    files = [config.resolve(p) for p in config.plugins]
    recording = record_snapshot(
        config, get_plugin_manager(files, entry_points=False), tmp_path / "o.json"
    )
    assert recording.missing == []
    assert set(json.loads(recording.path.read_text("utf-8"))["limits"]) == {"DailyApiRequests"}


def test_storage_live_and_from_the_recorded_snapshot_agree(
    sf_env: EmulatorLogins, emulator: SalesforceEmulator, live_config: Path, tmp_path: Path
) -> None:
    data = sample_org(users=20)
    data.limits = OVER_QUOTA.to_limits()
    emulator.load(data)
    config = load_config(live_config)
    files = [config.resolve(p) for p in config.plugins]
    live = run_audit(config, get_plugin_manager(files, entry_points=False))
    recording = record_snapshot(
        load_config(live_config), get_plugin_manager(files, entry_points=False), tmp_path / "o.json"
    )
    assert recording.missing == []
    raw = json.loads(recording.path.read_text("utf-8"))
    assert raw["limits"]["DataStorageMB"] == {"Max": 5120, "Remaining": -580}
    assert raw["limits"]["FileStorageMB"] == {"Max": 20480, "Remaining": 18000}
    assert raw["limits"]["DailyApiRequests"]["Max"] == 15000
    offline_config = apply_overrides(load_config(live_config), source=f"snapshot:{recording.path}")
    offline = run_audit(offline_config, get_plugin_manager(files, entry_points=False))
    expected = OVER_QUOTA.to_dict()
    assert live.org["storage"] == offline.org["storage"] == expected
    for report in (live, offline):
        metrics = report.check("backup-completeness").metrics
        assert metrics["data_storage_mb"] == {"used": 5700, "allowed": 5120}
        assert metrics["file_storage_mb"] == {"used": 2480, "allowed": 20480}
    assert SnapshotOrg(load_snapshot(recording.path)).storage() == OVER_QUOTA


def test_builder_snapshot_round_trip(tmp_path: Path) -> None:
    path = _over_quota_org().write(tmp_path / "org.json")
    assert SnapshotOrg(load_snapshot(path)).storage() == OVER_QUOTA


def test_an_older_snapshot_without_storage_audits_as_before(
    snapshot: Path, write_config, tmp_path: Path
) -> None:
    assert "limits" not in json.loads(snapshot.read_text("utf-8"))
    with pytest.raises(DataUnavailable, match="has no storage figures"):
        SnapshotOrg(load_snapshot(snapshot), str(snapshot)).storage()
    cfg = write_config(
        "version: 1\ntoday: 2026-11-26\norg: {source: snapshot:org.json}\n"
        "report: {formats: [html, json, md], output: out}\n"
    )
    report = run_audit(load_config(cfg), get_plugin_manager(entry_points=False))
    assert report.org["storage"] is None
    backup = report.check("backup-completeness")
    assert str(backup.status) == "fail"  # no backup: the usual finding, no storage metrics
    assert not any("storage" in k for k in backup.metrics)
    html = render_html(report, ReportContext(output_dir=tmp_path))
    assert "data-storage=" not in html
    assert "Data storage" not in render_markdown(report, ReportContext(output_dir=tmp_path))
    # A report.json from before org.storage existed renders too.
    older = AuditReport(
        checks=[],
        today=report.today,
        fail_on="info",
        org={"id": "00D", "name": "Old", "source": "snapshot"},
    )
    assert "data-storage=" not in render_html(older, ReportContext(output_dir=tmp_path))


def test_a_snapshot_whose_limits_is_not_an_object_names_the_field() -> None:
    raw = {
        "format": "sfaudit-snapshot",
        "version": 1,
        "org": {"id": "00D", "name": "X"},
        "limits": [1, 2],
    }
    with pytest.raises(InputError, match=r"org\.json: limits: expected an object"):
        parse_snapshot(raw, "org.json")


def test_over_quota_storage_in_the_report_header(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    assert report.org["storage"] == {
        "data_storage_mb": {"used": 5402, "allowed": 5120},
        "file_storage_mb": {"used": 14950, "allowed": 20480},
    }
    schema = json.loads((ROOT / "sfaudit" / "report" / "report.schema.json").read_text("utf-8"))
    jsonschema.validate(json.loads(report.to_json()), schema)
    html = render_html(report, ReportContext(output_dir=tmp_path))
    header = html[html.index('<header class="page-head">') : html.index("</header>")]
    assert (
        '<div data-storage="data_storage_mb" class="over"><dt>Data storage</dt>'
        "<dd>5,402 MB of 5,120 MB (106%), over quota</dd></div>"
    ) in header
    assert (
        '<div data-storage="file_storage_mb"><dt>File storage</dt>'
        "<dd>14,950 MB of 20,480 MB (73%)</dd></div>"
    ) in header
    dutch = render_html(report, ReportContext(output_dir=tmp_path, lang="nl"))
    assert "<dt>Dataopslag</dt><dd>5.402 MB van 5.120 MB (106%), boven het quotum</dd>" in dutch
    assert "<dt>Bestandsopslag</dt><dd>14.950 MB van 20.480 MB (73%)</dd>" in dutch
    backup = report.check("backup-completeness").metrics
    assert backup["data_storage_mb"] == {"used": 5402, "allowed": 5120}


def test_terminal_summary_shows_storage(tmp_path: Path) -> None:
    from rich.console import Console

    from sfaudit.report.terminal import print_summary

    console = Console(record=True, width=200)
    print_summary(demo_report(tmp_path), console)
    text = console.export_text()
    assert (
        "Data storage: 5,402 MB of 5,120 MB (106%), over quota; "
        "File storage: 14,950 MB of 20,480 MB (73%)"
    ) in text
