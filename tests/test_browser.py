"""The HTML report in a real browser: Playwright driving Debian's chromium.

Every page is opened with all network traffic routed through a handler that
records and aborts anything that is not the report file itself, and with
console errors, page errors and dialogs (``alert``) collected. Screenshots and
a PDF print land in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sfaudit.plugins import get_plugin_manager
from sfaudit.report import available_formats, write_reports
from sfaudit.report._view import finding_state
from tests.report_samples import XSS, big_report, demo_report, xss_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
DASH = "\u2013"  # the en dash of the pager: "1-50 of 275" with an en dash
LOAD_BOUND_100K_S = 10.0
"""Measured on a 2-core machine: the 100,000-finding report is interactive in 0.41 s
(median of 7 loads; 0.5-0.8 s while other tests run); the bound leaves room for a slow,
shared runner. The test prints the figure it saw."""
SEARCH_BOUND_100K_S = 5.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Opened:
    page: Any
    url: str
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    load_s: float = 0.0

    def assert_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.dialogs, f"a dialog opened: {self.dialogs}"
        assert not [m for m in self.console if m.startswith(("error", "warning"))], self.console
        assert not self.blocked, f"network requests: {self.blocked}"
        assert self.requests == [self.url], self.requests


def open_report(browser: Any, path: Path, *, scheme: str = "light", width: int = 1280) -> Opened:
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    opened = Opened(page, path.resolve().as_uri())

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            opened.blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("request", lambda req: opened.requests.append(req.url))
    page.on("console", lambda msg: opened.console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda exc: opened.errors.append(str(exc)))

    def dialog(d: Any) -> None:
        opened.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    start = time.perf_counter()
    page.goto(opened.url)
    page.wait_for_selector("html[data-ready=true]", timeout=60_000)
    opened.load_s = time.perf_counter() - start
    return opened


def write(
    report: Any, out: Path, lang: str = "en", names: tuple[str, ...] = ("html", "json")
) -> Path:
    formats = available_formats(get_plugin_manager(entry_points=False))
    written, problems = write_reports(report, formats, names, out, lang=lang)
    assert not problems
    return written["html"]


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write(demo_report(out), out)
    return out


def test_demo_report_loads_clean_and_matches_report_json(browser: Any, demo_dir: Path) -> None:
    data = json.loads((demo_dir / "report.json").read_text("utf-8"))
    opened = open_report(browser, demo_dir / "readiness.html")
    page = opened.page
    opened.assert_clean()
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-verdict") == data["verdict"]
    assert page.locator("#verdict .verdict-word").inner_text() == "Not ready to cancel"
    for status, n in data["summary"].items():
        if page.locator(f'.counts [data-status="{status}"]').count():
            assert page.locator(f'.counts [data-status="{status}"] .n').inner_text() == str(n)
    total = sum(len(c["findings"]) + len(c["resolved"]) for c in data["checks"])
    assert page.locator("#total-findings").inner_text() == str(total)
    for c in data["checks"]:
        row = page.locator(f'table.overview tr[data-check="{c["id"]}"]')
        assert row.get_attribute("data-status") == c["status"]
        open_n = sum(1 for f in c["findings"] if finding_state(f) == "open")
        assert row.locator("td[data-findings]").get_attribute("data-findings") == str(open_n)
        if c["findings"]:
            table = page.locator(f'[data-findings-table][data-check="{c["id"]}"]')
            assert table.get_attribute("data-matching") == str(
                len(c["findings"]) + len(c["resolved"])
            )
    page.screenshot(path=str(artifact("demo-light.png")), full_page=True)
    page.screenshot(path=str(artifact("demo-top.png")))
    dark = open_report(browser, demo_dir / "readiness.html", scheme="dark")
    dark.assert_clean()
    background = dark.page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert background == "rgb(18, 20, 24)"
    dark.page.screenshot(path=str(artifact("demo-dark.png")), full_page=True)
    narrow = open_report(browser, demo_dir / "readiness.html", width=420)
    narrow.page.screenshot(path=str(artifact("demo-narrow.png")))


def test_after_step_dates_and_storage_render(browser: Any, demo_dir: Path) -> None:
    data = json.loads((demo_dir / "report.json").read_text("utf-8"))
    notice = next(c for c in data["checks"] if c["id"] == "notice-deadline")["metrics"]
    opened = open_report(browser, demo_dir / "readiness.html")
    page = opened.page
    after = page.locator('#timeline li[data-step="after"]')
    returns = after.locator('[data-date="data_return_until"]')
    assert returns.is_visible()
    assert returns.locator("time").get_attribute("datetime") == notice["data_return_until"]
    assert returns.locator("dd").inner_text() == "2 March 2027"
    deleted = after.locator('[data-date="deletion_date"] time')
    assert deleted.get_attribute("datetime") == notice["deletion_date"] == "2027-08-29"
    assert "Order Form" in after.locator(".source").inner_text()
    assert page.locator("#timeline [data-date]").count() == 2  # the after step only
    storage = page.locator('.page-head [data-storage="data_storage_mb"]')
    assert storage.is_visible() and "over quota" in storage.inner_text()
    opened.assert_clean()


def range_text(table: Any) -> str:
    return str(table.locator(".range").inner_text())


def test_search_filter_sort_and_paginate_by_clicking(browser: Any, demo_dir: Path) -> None:
    data = json.loads((demo_dir / "report.json").read_text("utf-8"))
    findings = next(c for c in data["checks"] if c["id"] == "record-ownership")["findings"]
    opened = open_report(browser, demo_dir / "readiness.html")
    page = opened.page
    table = page.locator('[data-findings-table][data-check="record-ownership"]')
    rows = table.locator("tbody tr")
    assert rows.count() == min(50, len(findings))
    assert range_text(table) == f"1{DASH}{min(50, len(findings))} of {len(findings)}"

    table.locator('[data-page="next"]').click()
    assert range_text(table).startswith(f"51{DASH}")

    owner = "maud.devries@acme.example"
    search = table.locator('input[data-filter="q"]')
    search.click()
    search.press_sequentially("maud.devries")
    expected = sum(1 for f in findings if owner in f["message"] or f.get("owner") == owner)
    page.wait_for_function(
        "([el, n]) => el.dataset.matching === String(n)",
        arg=[table.element_handle(), expected],
    )
    assert rows.count() == expected
    for text in rows.all_inner_texts():
        assert "maud.devries" in text
    search.fill("")

    table.locator('select[data-filter="object"]').select_option("Account")
    expected = sum(1 for f in findings if f.get("object") == "Account")
    assert table.get_attribute("data-matching") == str(expected)
    table.locator('select[data-filter="owner"]').select_option(owner)
    both = [f for f in findings if f.get("object") == "Account" and f.get("owner") == owner]
    assert table.get_attribute("data-matching") == str(len(both))
    table.locator('select[data-filter="owner"]').select_option("")

    count_header = table.locator('th[data-col="count"]')
    count_header.locator("button").click()
    assert count_header.get_attribute("aria-sort") == "ascending"
    counts = [int(t.replace(",", "")) for t in table.locator("tbody td.num").all_inner_texts()]
    assert counts == sorted(counts)
    count_header.locator("button").click()
    assert count_header.get_attribute("aria-sort") == "descending"
    counts = [int(t.replace(",", "")) for t in table.locator("tbody td.num").all_inner_texts()]
    assert counts[0] == max(f["count"] for f in findings if f.get("object") == "Account")

    table.locator('select[data-filter="object"]').select_option("")
    table.locator('select[data-filter="state"]').select_option("note")
    notes = [f for f in findings if finding_state(f) == "note"]
    assert notes and table.get_attribute("data-matching") == str(len(notes))
    assert set(table.locator("tbody td:last-child .badge").all_inner_texts()) == {"note"}
    search.fill("no such owner anywhere")
    page.wait_for_function("el => el.dataset.matching === '0'", arg=table.element_handle())
    assert rows.all_inner_texts() == ["No findings match."]
    opened.assert_clean()


def test_xss_payloads_do_not_execute(browser: Any, tmp_path: Path) -> None:
    html = write(xss_report(tmp_path), tmp_path / "out")
    opened = open_report(browser, html)
    page = opened.page
    assert page.locator("h1").inner_text() == f"{XSS[0]} Corp"
    users = page.locator('[data-findings-table][data-check="active-users"]')
    users.locator('input[data-filter="q"]').fill("alert")
    page.wait_for_function("el => el.dataset.matching !== undefined", arg=users.element_handle())
    texts = " ".join(users.locator("tbody").all_inner_texts())
    for payload in XSS:
        assert payload in texts
    owners = page.locator('[data-findings-table][data-check="record-ownership"]')
    owners.locator('select[data-filter="object"]').select_option(f"{XSS[1]}__c")
    assert f"{XSS[1]}__c" in owners.locator("tbody").inner_text()
    assert page.evaluate("document.images.length") == 0
    assert page.evaluate("document.scripts.length") == 3
    page.screenshot(path=str(artifact("xss.png")), full_page=True)
    opened.assert_clean()


def test_100k_findings_load_within_the_bound(browser: Any, tmp_path: Path) -> None:
    html = write(big_report(100_000), tmp_path, names=("html",))
    size = html.stat().st_size
    opened = open_report(browser, html)
    page = opened.page
    table = page.locator('[data-findings-table][data-check="active-users"]')
    assert table.get_attribute("data-matching") == "60000"
    start = time.perf_counter()
    table.locator('input[data-filter="q"]').fill("user059999@")
    page.wait_for_function("el => el.dataset.matching === '1'", arg=table.element_handle())
    search_s = time.perf_counter() - start
    start = time.perf_counter()
    table.locator('th[data-col="user"] button').click()
    table.locator('input[data-filter="q"]').fill("")
    page.wait_for_function("el => el.dataset.matching === '60000'", arg=table.element_handle())
    sort_s = time.perf_counter() - start
    print(
        f"\n100,000 findings: {size / 1e6:.2f} MB, interactive in {opened.load_s:.2f} s, "
        f"search {search_s:.2f} s, clear+sort {sort_s:.2f} s (bounds {LOAD_BOUND_100K_S} s / "
        f"{SEARCH_BOUND_100K_S} s)"
    )
    assert size < 5_000_000
    assert opened.load_s < LOAD_BOUND_100K_S
    assert search_s < SEARCH_BOUND_100K_S
    page.screenshot(path=str(artifact("big-100k.png")))
    opened.assert_clean()


def test_dutch_report_in_the_browser(browser: Any, tmp_path: Path) -> None:
    html = write(demo_report(tmp_path), tmp_path / "nl", lang="nl")
    opened = open_report(browser, html)
    page = opened.page
    assert page.locator("#verdict .verdict-word").inner_text() == "Niet klaar om op te zeggen"
    table = page.locator('[data-findings-table][data-check="record-ownership"]')
    assert re.fullmatch(rf"1{DASH}50 van \d+", range_text(table))
    assert set(table.locator("tbody td:first-child").all_inner_texts()) == {"hoog"}
    table.locator('select[data-filter="state"]').select_option("note")
    assert set(table.locator("tbody td:last-child .badge").all_inner_texts()) == {"notitie"}
    page.screenshot(path=str(artifact("demo-nl.png")), full_page=True)
    opened.assert_clean()


def test_print_layout(browser: Any, demo_dir: Path) -> None:
    opened = open_report(browser, demo_dir / "readiness.html")
    page = opened.page
    page.emulate_media(media="print")
    assert page.locator("nav.toc").is_hidden()
    assert page.locator(".controls").first.is_hidden()
    position = page.evaluate(
        "getComputedStyle(document.querySelector('.ftable thead th')).position"
    )
    assert position == "static"
    breaks = page.evaluate("getComputedStyle(document.querySelector('#details')).breakBefore")
    assert breaks == "page"
    pdf = artifact("demo.pdf")
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
    opened.assert_clean()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_plugin_check_takes_its_place_in_the_timeline(
    browser: Any, tmp_path: Path, lang: str
) -> None:
    from click.testing import CliRunner

    from sfaudit.cli import main
    from tests.test_report_placement import PLUGIN, _config

    (tmp_path / "placed.py").write_text(PLUGIN, encoding="utf-8")
    out = tmp_path / "out"
    args = ["run", "-c", str(_config(tmp_path)), "-o", str(out), "--lang", lang]
    result = CliRunner().invoke(main, [*args, "--format", "html,json"])
    assert result.exit_code == 0, result.output
    opened = open_report(browser, out / "readiness.html")
    page = opened.page
    steps = page.locator("#timeline li.step")
    assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == [
        "contract",
        "prepare",
        "submit",
        "after",
    ]
    link = page.locator('#timeline li[data-step="prepare"] a.chk[href="#check-open-cases-step"]')
    assert link.is_visible()
    assert "st-fail" in str(link.get_attribute("class"))
    assert page.locator('#timeline a.chk[href="#check-open-cases-step"]').count() == 1
    after = page.locator('#timeline li[data-step="after"] a.chk')
    assert after.all_inner_texts()[0].startswith("confirmation-filed")
    link.click()
    assert page.url.endswith("#check-open-cases-step")
    assert page.locator("#check-open-cases-step").is_visible()
    chart = page.locator("#chart-cases-by-region")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    assert chart.locator("svg rect").count() == 3  # EMEA open + escalated, APAC open
    assert chart.locator("figcaption").inner_text() == "Open cases by region"
    page.screenshot(path=str(artifact(f"plugin-step-{lang}.png")), full_page=True)
    opened.assert_clean()


def test_readme_screenshot_is_committed() -> None:
    png = Path(__file__).resolve().parents[1] / "docs" / "report-screenshot.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "docs/report-screenshot.png" in (png.parents[1] / "README.md").read_text("utf-8")


def test_fleet_rollup_in_the_browser_links_each_org_report(browser: Any, tmp_path: Path) -> None:
    """fleet.html: self-contained, rows by urgency, and each link opens that org's report."""
    from sfaudit.report.fleet import write_rollup
    from sfaudit.rollup import Rollup, incomplete_row, row_from_report

    rows = []
    for name in ("emea", "us"):
        folder = tmp_path / name
        write(demo_report(folder), folder)
        data = json.loads((folder / "report.json").read_text("utf-8"))
        if name == "emea":  # a nearer deadline: first among the orgs that are not ready
            data["checks"] = [
                {**c, "metrics": {**c["metrics"], "days_left": 3}}
                if "days_left" in (c.get("metrics") or {})
                else c
                for c in data["checks"]
            ]
        rows.append(row_from_report(data, name, f"{name}/readiness.html"))
    rows.append(incomplete_row("apac", "the org could not be read: INVALID_SESSION_ID"))
    written = write_rollup(Rollup(rows, generated_at="2026-11-26T10:00:00Z"), tmp_path, ["html"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(written["html"].resolve().as_uri())
    order = page.eval_on_selector_all("tr[data-org]", "rows => rows.map(r => r.dataset.org)")
    assert order == ["emea", "us", "apac"]
    assert "INVALID_SESSION_ID" in page.inner_text("tr[data-org=apac]")
    assert page.eval_on_selector("body", "b => getComputedStyle(b).fontFamily") != ""
    page.screenshot(path=str(artifact("fleet.png")), full_page=True)
    page.click("tr[data-org=us] a")
    page.wait_for_selector("html[data-ready=true]", timeout=60_000)
    assert page.url.endswith("/us/readiness.html")
    assert "Acme Corp" in page.inner_text("h1")
    assert not blocked and not errors, (blocked, errors)
    context.close()
