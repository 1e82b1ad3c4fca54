"""Checks place themselves in the report: ``@check(step=..., charts=...)``, and the
report names no check, so a plugin's check is shown exactly as a built-in one."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sfaudit import Chart, check
from sfaudit.cli import main
from sfaudit.demo import demo_dir
from sfaudit.plugins import collect_checks, get_plugin_manager
from sfaudit.registry import DEFAULT_STEP, STEPS
from sfaudit.report import ReportContext
from sfaudit.report.html import render_html
from sfaudit.report.markdown import render_markdown
from tests.report_samples import rich_report

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "sfaudit" / "report"

PLUGIN = '''\
"""A local plugin file: one check per step, one without, and charts from metrics."""

from sfaudit import Chart, Finding, check


@check(
    "open-cases-step",
    severity="low",
    step="prepare",
    charts=[
        Chart("cases-by-region", "Open cases by region", metric="by_region",
              series=(("open", "open"), ("escalated", "escalated"))),
        Chart("cases-by-owner", "Open cases by queue", findings="object", stack="owner"),
    ],
)
def open_cases_step(metrics):
    """No support cases are still open."""
    metrics["by_region"] = {"EMEA": {"open": 7, "escalated": 2}, "APAC": {"open": 3}}
    yield Finding("7 cases open in EMEA", object="EMEA", owner="Tier 1", count=7)
    yield Finding("3 cases open in APAC", object="APAC", owner="Tier 2", count=3)


@check("confirmation-filed", severity="info", step="after")
def confirmation_filed():
    """The cancellation confirmation is filed."""


@check("no-step-given", severity="info")
def no_step_given():
    """A check that names no step."""
'''


def builtin_check_ids() -> list[str]:
    specs = collect_checks(get_plugin_manager(entry_points=False))
    return sorted(cid for cid, spec in specs.items() if spec.plugin.startswith("sfaudit."))


def test_the_report_package_names_no_check() -> None:
    ids = builtin_check_ids()
    assert len(ids) >= 6
    files = [p for p in REPORT.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    assert any(p.suffix == ".j2" for p in files) and any(p.suffix == ".py" for p in files)
    # Prose marked for translation may use a word that is also an id ("integrations").
    prose = re.compile(r"""\b(?:N_|_|gettext)\(\s*"[^"]*"\s*\)""")
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {cid}"
        for p in files
        for n, line in enumerate(p.read_text("utf-8").splitlines(), 1)
        for cid in ids
        if re.search(rf"(?<![\w-]){re.escape(cid)}(?![\w-])", prose.sub("", line))
    ]
    assert not hits, "the report must read what checks declare, not know them by name"


def test_every_builtin_check_declares_its_step() -> None:
    specs = collect_checks(get_plugin_manager(entry_points=False))
    steps = {cid: specs[cid].step for cid in builtin_check_ids()}
    assert steps == {
        "active-users": ("prepare",),
        "backup-completeness": ("prepare",),
        "license-utilization": ("prepare",),
        "metadata-backup": ("prepare",),
        "notice-deadline": ("contract", "submit"),
        "record-ownership": ("prepare",),
        "scheduled-jobs": ("prepare",),
        "installed-packages": ("prepare",),
        "integrations": ("prepare",),
        "inbound-email": ("prepare",),
        "public-sites": ("prepare",),
    }
    charts = {cid: [c.name for c in specs[cid].charts] for cid in builtin_check_ids()}
    assert charts["backup-completeness"] == ["backup"]
    assert charts["record-ownership"] == ["reassign"]
    assert charts["license-utilization"] == ["users"]
    assert charts["metadata-backup"] == ["metadata"]
    assert charts["installed-packages"] == ["package-seats"]
    assert charts["integrations"] == ["integration-users"]


def test_a_bad_step_names_the_check_and_the_choices() -> None:
    with pytest.raises(ValueError) as err:

        @check("late-step", step="cleanup")
        def late_step() -> None:
            """Never registered."""

    message = str(err.value)
    assert "'late-step'" in message and "'cleanup'" in message
    assert "contract, prepare, submit, after" in message
    with pytest.raises(ValueError, match="needs either metric= or findings="):
        Chart("x", "X")
    with pytest.raises(ValueError, match="kind must be"):
        Chart("x", "X", metric="m", kind="pie")  # type: ignore[arg-type]


def test_a_bad_step_in_a_plugin_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        "from sfaudit import check\n\n@check('wrong-step', step='later')\n"
        "def wrong_step():\n    pass\n",
        encoding="utf-8",
    )
    config = _config(tmp_path, plugin="bad.py")
    result = CliRunner().invoke(main, ["list-checks", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert "bad.py" in result.output and "unknown step 'later'" in result.output
    assert "contract, prepare, submit, after" in result.output


def _config(tmp: Path, plugin: str = "placed.py") -> Path:
    config = tmp / "audit.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            today: 2026-11-26
            org: {{source: "snapshot:{demo_dir() / "org.json"}"}}
            contract: {{start_date: 2026-02-01, end_date: 2027-01-31, notice_days: 30}}
            checks:
              backup-completeness: {{enabled: false}}
            plugins: [{plugin}]
            fail_on: never
            """
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real audit of the demo org with the plugin file, written in en and nl."""
    tmp = tmp_path_factory.mktemp("placed")
    (tmp / "placed.py").write_text(PLUGIN, encoding="utf-8")
    config = _config(tmp)
    out = {}
    for lang in ("en", "nl"):
        folder = tmp / lang
        args = ["run", "-c", str(config), "-o", str(folder), "--lang", lang]
        result = CliRunner().invoke(main, [*args, "--format", "html,md,json"])
        assert result.exit_code == 0, result.output
        out[lang] = folder
    return out


def timeline_steps(html: str) -> dict[str, str]:
    """The HTML of each timeline step, by its ``data-step``."""
    section = html[html.index('id="timeline"') : html.index('id="overview"')]
    parts = re.split(r'<li class="step" data-step="(\w+)">', section)[1:]
    return dict(zip(parts[::2], parts[1::2], strict=True))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_plugin_check_appears_in_its_timeline_step(audited: dict[str, Path], lang: str) -> None:
    html = (audited[lang] / "readiness.html").read_text("utf-8")
    steps = timeline_steps(html)
    assert list(steps) == list(STEPS)
    placed = {s: re.findall(r'href="#check-([\w.-]+)" class="chk', h) for s, h in steps.items()}
    assert "open-cases-step" in placed["prepare"]
    assert placed["prepare"].index("active-users") < placed["prepare"].index("open-cases-step")
    assert placed["after"] == ["confirmation-filed"]
    assert placed["contract"] == placed["submit"] == ["notice-deadline"]
    assert "no-step-given" in placed[DEFAULT_STEP]  # no step: the default place
    assert "backup-completeness" not in placed["prepare"]  # disabled: shown as not run
    assert 'chk st-not-run">backup-completeness' in steps["prepare"]
    assert all(c.count("no-step-given") == 0 for s, c in steps.items() if s != DEFAULT_STEP)
    data = json.loads((audited[lang] / "report.json").read_text("utf-8"))
    assert "open-cases-step" in data["timeline"]["prepare"]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_plugin_check_appears_in_the_markdown_timeline(
    audited: dict[str, Path], lang: str
) -> None:
    md = (audited[lang] / "summary.md").read_text("utf-8")
    heading = "### Cancellation timeline" if lang == "en" else "### Tijdlijn van de opzegging"
    assert heading in md
    lines = {line.split(".")[0]: line for line in md.splitlines() if re.match(r"^\d\. \*\*", line)}
    prepare, after = (
        ("Prepare", "After the cancellation")
        if lang == "en"
        else (
            "Voorbereiden",
            "Na de opzegging",
        )
    )
    assert lines["2"].startswith(f"2. **{prepare}**")
    assert "`open-cases-step` " in lines["2"] and "`no-step-given` " in lines["2"]
    assert "`active-users` " in lines["2"]
    assert lines["4"].startswith(f"4. **{after}**") and "`confirmation-filed` " in lines["4"]
    assert "`open-cases-step`" not in lines["1"] + lines["3"] + lines["4"]
    assert "| `open-cases-step` |" in md


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_plugin_check_gets_the_charts_it_declares(audited: dict[str, Path], lang: str) -> None:
    html = (audited[lang] / "readiness.html").read_text("utf-8")
    charts = html[html.index('id="charts"') : html.index('id="details"')]
    region = _figure(charts, "chart-cases-by-region")
    assert "<h3>Open cases by region</h3>" in region
    assert (
        "<title>EMEA · open: 7</title>" in region and "<title>EMEA · escalated: 2</title>" in region
    )
    assert ">9<" in region and ">3<" in region  # bar totals
    assert region.index("EMEA") < region.index("APAC")  # the biggest row first
    owners = _figure(charts, "chart-cases-by-owner")
    assert "Tier 1" in owners and "Tier 2" in owners
    for builtin in ("chart-reassign", "chart-users"):  # the built-ins are drawn the same way
        assert f'id="{builtin}"' in charts
    assert 'id="chart-backup"' not in charts  # its check did not run


def _figure(html: str, chart_id: str) -> str:
    start = html.index(f'<figure class="chart" id="{chart_id}">')
    return html[start : html.index("</figure>", start)]


def _render(report: Any, lang: str = "en") -> tuple[str, str]:
    ctx = ReportContext(output_dir=Path("."), files={"html": "readiness.html"}, lang=lang)
    return render_html(report, ctx), render_markdown(report, ctx)


def test_grouped_charts_read_list_rows_and_sort_by_the_gap() -> None:
    report = rich_report()
    custom = report.check("acme-custom")
    custom.metrics = {
        "mailboxes": [
            {"name": "sales@", "expected": 100, "archived": 100},
            {"name": "support@", "expected": 80, "archived": 20},
            {"name": "no-figures@"},
        ]
    }
    custom.charts = [
        Chart(
            "mail",
            "Mail archived",
            kind="grouped",
            metric="mailboxes",
            series=(("expected", "expected"), ("archived", "archived")),
            sort="gap",
        ).to_dict()
    ]
    html, _ = _render(report)
    mail = _figure(html, "chart-mail")
    assert mail.index("support@") < mail.index("sales@") and "no-figures@" not in mail
    assert ">80<" in mail and ">20<" in mail


def test_a_contract_check_from_a_plugin_feeds_the_notice_panel() -> None:
    report = rich_report()
    notice_check = report.check("notice-deadline")
    report.checks.remove(notice_check)
    mine = report.check("acme-custom")
    mine.metrics = {"deadline": "2026-12-15", "days_left": 19}
    report.timeline = {"contract": ["acme-custom"], "prepare": ["notice-deadline"]}
    html, md = _render(report)
    assert 'data-days-left="19"' in html
    assert "**Notice deadline:** 15 December 2026 (19 days left)" in md
    report.timeline = {}
    html, _ = _render(report, "nl")
    assert "Geen controle geeft de uiterste opzegdatum" in html
