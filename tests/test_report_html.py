"""The HTML readiness report, without a browser: content, escaping, languages, size, catalogs."""

from __future__ import annotations

import base64
import gettext
import gzip
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sfaudit.report import ReportContext
from sfaudit.report._i18n import locale_dir
from sfaudit.report.html import render_html
from tests.report_samples import XSS, big_report, demo_report, rich_report, xss_report

ROOT = Path(__file__).resolve().parents[1]


def render(report: Any, lang: str = "en", files: dict[str, str] | None = None) -> str:
    ctx = ReportContext(output_dir=Path("."), files=files or {"html": "readiness.html"}, lang=lang)
    return render_html(report, ctx)


class Page(HTMLParser):
    """Collects what the tests look at: resource URLs, element ids, script blocks, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.ids: dict[str, dict[str, str | None]] = {}
        self.scripts: dict[str, str] = {}
        self.script_attrs: dict[str, dict[str, str | None]] = {}
        self.tags: list[str] = []
        self._script: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            if a.get(name):
                self.urls.append((tag, name, str(a[name])))
        if a.get("id"):
            self.ids[str(a["id"])] = a
        if tag == "script":
            self._script = str(a.get("id") or f"inline-{len(self.scripts)}")
            self.script_attrs[self._script] = a
            self.scripts[self._script] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts[self._script] += data
        else:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def embedded_findings(page: Page) -> dict[str, Any]:
    """Decode the findings script block the way report.js does."""
    raw = page.scripts["sfa-data"]
    if page.script_attrs["sfa-data"].get("data-encoding") == "gzip+base64":
        return json.loads(gzip.decompress(base64.b64decode(json.loads(raw))))
    return json.loads(raw)


def test_demo_report_states_verdict_org_and_counts(tmp_path: Path) -> None:
    report = demo_report(tmp_path)
    data = report.to_dict()
    page = parse(render(report))
    text = " ".join(page.text)
    assert page.ids["verdict"]["data-verdict"] == data["verdict"] == "not-ready"
    assert "Not ready to cancel" in text
    for word in ("Acme Corp", "00D5g000000ACMEEA2", "Enterprise Edition", "Production", "snapshot"):
        assert word in text
    assert "26 November 2026" in text
    html = render(report)
    for status, n in data["summary"].items():
        if status != "waived" or n:
            assert re.search(rf'data-status="{status}"><span class="n">{n}</span>', html), status
    for c in data["checks"]:
        assert f'id="check-{c["id"]}"' in html


def test_demo_report_makes_no_external_requests(tmp_path: Path) -> None:
    page = parse(
        render(demo_report(tmp_path), files={"html": "readiness.html", "json": "report.json"})
    )
    for tag, attr, url in page.urls:
        assert url.startswith("#") or url == "report.json", (tag, attr, url)
    html = render(demo_report(tmp_path))
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html
    assert set(page.tags).isdisjoint({"iframe", "img", "object", "embed", "link"})


def test_notice_countdown_refund_and_timeline_come_from_the_checks() -> None:
    report = rich_report()
    page = parse(render(report))
    text = " ".join(" ".join(page.text).split())
    assert "36 days left to give notice" in text
    assert "1 January 2027" in text and "2 December 2026" in text and "1 February 2027" in text
    assert "€1,754.79" in text
    assert "2 March 2026" in text  # end of the full-refund window
    html = render(report)
    timeline = html[html.index('id="timeline"') : html.index('id="overview"')]
    assert timeline.count('href="#check-notice-deadline"') == 2  # steps 1 and 3
    for check_id in (
        "backup-completeness",
        "license-utilization",
        "active-users",
        "record-ownership",
    ):
        assert f'href="#check-{check_id}"' in timeline
    assert "Setup → Billing" in timeline
    assert "scheduled-jobs" in timeline


def test_missing_notice_check_renders_gracefully() -> None:
    report = rich_report()
    report.checks = [c for c in report.checks if c.id != "notice-deadline"]
    text = " ".join(parse(render(report)).text)
    assert "The notice-deadline check did not run" in text
    assert "not run" in text


def test_check_cards_hold_explain_fix_metrics_waivers_and_baseline() -> None:
    html = render(rich_report())
    card = html[html.index('id="check-active-users"') : html.index('id="check-record-ownership"')]
    assert "Users who can log in after the cancellation keep access to the data." in card
    assert "Deactivate them: Setup → Users." in card
    assert "can log in" in card and "Salesforce: 3, Chatter Free: 1" in card
    assert "Vendor support login, removed by Salesforce at termination" in card
    assert "(until 31 Dec 2026)" in card
    assert "1 new" in card and "1 resolved" in card
    assert 'data-filter="severity"' in card and 'data-filter="state"' in card
    errored = html[html.index('id="check-acme-custom"') :]
    assert "KeyError: &#39;Region__c&#39;" in errored and "Traceback" in errored


def test_charts_are_inline_svg_from_findings_and_metrics() -> None:
    html = render(rich_report())
    charts = html[html.index('id="charts"') : html.index('id="details"')]
    reassign = charts[charts.index('id="chart-reassign"') : charts.index('id="chart-backup"')]
    assert "<svg" in reassign and "Account" in reassign and "ann@acme.example" in reassign
    assert ">160<" in reassign and ">300<" in reassign  # bar totals: Account 120 + 40, Contact
    backup = charts[charts.index('id="chart-backup"') : charts.index('id="chart-users"')]
    assert "2,640" in backup and "2,100" in backup
    users = charts[charts.index('id="chart-users"') :]
    assert "Salesforce Platform" in users and "unassigned seats" in users and "idle" in users


def test_dutch_report_translates_and_formats_for_the_locale() -> None:
    html = render(rich_report(), lang="nl")
    page = parse(html)
    text = " ".join(" ".join(page.text).split())
    assert '<html lang="nl">' in html
    assert "Audit onvolledig" in text  # a check errored
    assert "36 dagen om op te zeggen" in text
    assert "1 januari 2027" in text
    assert "€ 1.754,79" in text
    assert "Tijdlijn van de opzegging" in text and "De opzegging indienen" in text
    assert "Audit incomplete" not in text and "Cancellation timeline" not in text
    ui = json.loads(page.scripts["sfa-ui"])
    assert ui["locale"] == "nl-NL" and ui["state"]["waived"] == "uitgezonderd"


def test_xss_payloads_from_the_org_are_escaped(tmp_path: Path) -> None:
    report = xss_report(tmp_path)
    html = render(report)
    for payload in XSS:
        assert payload not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Corp" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    page = parse(html)
    assert [k for k in page.scripts if k.startswith("inline")] == ["inline-2"]  # only report.js
    assert "img" not in page.tags
    data = embedded_findings(page)
    assert any("<script>alert(1)</script>" in s for s in data["strings"])


def test_embedded_json_cannot_close_its_script_element() -> None:
    report = rich_report()
    report.checks[1].findings[0].message = "</script><script>alert(1)</script><!--"
    html = render(report)
    raw = html[html.index('id="sfa-data"') :]
    raw = raw[raw.index(">") + 1 : raw.index("</script>")]
    assert "<" not in raw and ">" not in raw
    assert "</script><script>alert(1)" in json.dumps(json.loads(raw)["strings"], ensure_ascii=False)


def test_embedded_findings_round_trip_every_finding() -> None:
    report = rich_report()
    data = embedded_findings(parse(render(report)))
    width = len(data["columns"])
    for c in report.checks:
        flat = data["checks"][c.id]
        assert len(flat) == width * (len(c.findings) + len(c.resolved))
    users = data["checks"]["active-users"]
    rows = [users[i : i + width] for i in range(0, len(users), width)]
    col = {name: i for i, name in enumerate(data["columns"])}
    states = [data["strings"][r[col["state"]]] for r in rows]
    assert states == ["open", "open", "waived", "open", "resolved"]


def test_100k_findings_stay_under_5_mb() -> None:
    report = big_report(100_000)
    html = render(report)
    size = len(html.encode("utf-8"))
    print(f"\n100,000 findings: HTML report {size / 1e6:.2f} MB")
    assert size < 5_000_000
    page = parse(html)
    assert page.script_attrs["sfa-data"]["data-encoding"] == "gzip+base64"
    data = embedded_findings(page)
    width = len(data["columns"])
    assert sum(len(v) for v in data["checks"].values()) == 100_000 * width
    assert html.count("<tr>") < 200  # only a preview is rendered server-side


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_html_report_is_written_by_the_cli(tmp_path: Path, lang: str) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main

    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["demo", "-o", str(out), "--lang", lang, "--format", "html,json"]
    )
    assert result.exit_code == 0, result.output
    html = (out / "readiness.html").read_text("utf-8")
    assert f'<html lang="{lang}">' in html
    word = "Niet klaar om op te zeggen" if lang == "nl" else "Not ready to cancel"
    assert word in html


# -------------------------------------------------------------------------
# Message catalogs
# -------------------------------------------------------------------------


def _source_messages() -> set[str]:
    method_map = [
        ("sfaudit/report/**.py", "python"),
        ("sfaudit/report/templates/**.j2", "jinja2"),
        ("sfaudit/notify/**.py", "python"),
    ]
    options = {"sfaudit/report/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords={"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)},
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_report_string_has_a_dutch_translation() -> None:
    catalog = read_po((locale_dir() / "nl" / "LC_MESSAGES" / "sfaudit.po").open("rb"), locale="nl")
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = _source_messages() - translated
    assert not missing, (
        f"untranslated (run the pybabel steps in docs/reports.md, Languages): {sorted(missing)}"
    )
    assert not [m.id for m in catalog if m.fuzzy and m.id]


def test_compiled_catalog_matches_the_po_source() -> None:
    po = locale_dir() / "nl" / "LC_MESSAGES" / "sfaudit.po"
    mo = po.with_suffix(".mo")
    buf = io.BytesIO()
    write_mo(buf, read_po(po.open("rb"), locale="nl"))
    fresh = gettext.GNUTranslations(io.BytesIO(buf.getvalue()))
    committed = gettext.GNUTranslations(mo.open("rb"))
    # The header entry ("") names the Babel version that compiled it: compare the messages.
    messages = {k: v for k, v in fresh._catalog.items() if k}  # type: ignore[attr-defined]
    assert messages == {k: v for k, v in committed._catalog.items() if k}  # type: ignore[attr-defined]
    assert committed.gettext("Ready to cancel") == "Klaar om op te zeggen"


def test_backup_chart_reads_per_object_rows_from_metrics() -> None:
    report = rich_report()
    backup = report.check("backup-completeness")
    backup.metrics = {
        "objects": [
            {"name": "Account", "org_count": 1180, "export_count": 1180, "status": "ok"},
            {"name": "Case", "org_count": 655, "export_count": 600, "status": "short"},
        ]
    }
    backup.findings = []
    html = render(report)
    chart = html[html.index('id="chart-backup"') : html.index('id="chart-users"')]
    assert "Case" in chart and ">655<" in chart and ">600<" in chart
    assert chart.index("Case") < chart.index("Account")  # the biggest gap first


def test_problems_and_expired_waivers_are_listed_first() -> None:
    report = rich_report()
    report.problems.append("plugin 'acme' failed to load: <ImportError>")
    report.waivers[0].expired = True
    html = render(report)
    problems = html[html.index('id="problems-h"') : html.index('id="timeline"')]
    assert "plugin &#39;acme&#39; failed to load: &lt;ImportError&gt;" in problems
    assert "Expired waiver for active-users (expired 31 Dec 2026)" in problems
    assert html.index('id="problems-h"') < html.index('id="timeline"')


def _step(html: str, key: str) -> str:
    start = html.index(f'<li class="step" data-step="{key}">')
    return html[start : html.index("</li>\n", html.index('<p class="covered', start))]


@pytest.mark.parametrize(
    ("lang", "returns", "deleted", "words"),
    [
        (
            "en",
            "2 March 2027",
            "29 August 2027",
            (
                "Last day to ask Salesforce for the data",
                "Salesforce deletes the data",
                "From Salesforce's documentation, not from your contract: check it against "
                "the Order Form.",
            ),
        ),
        (
            "nl",
            "2 maart 2027",
            "29 augustus 2027",
            (
                "Laatste dag om Salesforce om de gegevens te vragen",
                "Salesforce verwijdert de gegevens",
                "Uit de documentatie van Salesforce, niet uit je contract",
            ),
        ),
    ],
)
def test_after_step_shows_the_data_return_and_deletion_dates(
    tmp_path: Path, lang: str, returns: str, deleted: str, words: tuple[str, ...]
) -> None:
    html = render(demo_report(tmp_path), lang=lang)
    after = _step(html, "after")
    assert (
        f'<div data-date="data_return_until"><dt>{words[0]}</dt>'
        f'<dd><time datetime="2027-03-02">{returns}</time></dd></div>'
    ) in after.replace("&#39;", "'")
    assert (
        f'<div data-date="deletion_date"><dt>{words[1]}</dt>'
        f'<dd><time datetime="2027-08-29">{deleted}</time></dd></div>'
    ) in after
    assert words[2] in after.replace("&#39;", "'")
    for other in ("contract", "prepare", "submit"):
        assert "data-date=" not in _step(html, other)


def test_after_step_without_the_dates_stays_a_checklist() -> None:
    """A report whose contract check gives no data-return dates (an older report, or
    a plugin's own contract check) shows the after step as before."""
    html = render(rich_report())
    assert 'class="dates step-dates"' not in html and "data-date=" not in html
    assert "Get written confirmation of the cancellation" in _step(html, "after")
