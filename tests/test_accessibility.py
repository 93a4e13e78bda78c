"""Accessibility of the pages a policy adviser reads: axe-core in the Debian Chromium (no download).

axe-core comes from the npm registry (`make install` runs `npm pack axe-core`, pinned in the Makefile);
Playwright for Python drives the system Chromium. Zero serious or critical violations are allowed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from analysis.config import PROJ_ROOT, Paths
from analysis.factsheets.runner import run_batch

AXE = Path(os.environ.get("VEERKRACHT_AXE_JS", PROJ_ROOT / ".venv" / "share" / "axe" / "axe.min.js"))
AREAS = ["GM0642", "FG03", "BU06420305"]  # gemeente, focus area, buurt


@pytest.fixture(scope="module")
def pages(analysed, tmp_path_factory) -> dict[str, Path]:
    # the session's shared build and analysis outputs (conftest.analysed): no second goals run
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path_factory.mktemp("a11y"))
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    res = run_batch(p, only=AREAS, force=True, workers=2, progress=False)
    assert res["ok"] == len(AREAS)
    folder = p.outputs / "factsheets"
    return {"index": folder / "index.html", **{c: next(folder.glob(f"{c.lower()}-*.html")) for c in AREAS}}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is required (.ci/run installs it with apt)"
    assert AXE.exists(), f"{AXE} missing: `make install` fetches axe-core from the npm registry"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


def _axe(browser, page_path: Path) -> list[dict]:
    page = browser.new_page()
    try:
        page.goto(page_path.resolve().as_uri())
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    finally:
        page.close()
    return result["violations"]


@pytest.mark.parametrize("name", ["index", *AREAS])
def test_no_serious_or_critical_axe_violations(browser, pages, name):
    bad = [v for v in _axe(browser, pages[name]) if v["impact"] in ("serious", "critical")]
    detail = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in bad]
    assert not bad, f"{pages[name].name}: {detail}"


def test_axe_catches_a_planted_violation(browser, pages, tmp_path):
    """The check itself must be able to fail: white text on the old green badge (2.87:1)."""
    html = pages["index"].read_text(encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(
        html.replace("</main>", "<p style='color:#fff;background:#27ae60'>laag contrast</p></main>")
    )
    assert any(v["id"] == "color-contrast" for v in _axe(browser, bad))


def test_overview_sorts_by_keyboard_with_aria_sort_and_filters(browser, pages):
    page = browser.new_page()
    try:
        page.goto(pages["index"].resolve().as_uri())
        th = page.locator("#gebieden thead th").nth(2)  # inwoners
        assert th.get_attribute("aria-sort") == "none"
        th.locator("button").focus()
        page.keyboard.press("Space")
        assert th.get_attribute("aria-sort") == "ascending"
        page.keyboard.press("Enter")
        assert th.get_attribute("aria-sort") == "descending"
        values = [
            float(v)
            for v in page.locator("#gebieden tbody tr td:nth-child(3)").evaluate_all(
                "els => els.map(e => e.dataset.v)"
            )
        ]
        assert values == sorted(values, reverse=True)
        page.select_option("#niveau", "buurt")
        levels = page.locator("#gebieden tbody tr:not([hidden]) td:nth-child(2)").all_inner_texts()
        assert levels and set(levels) == {"buurt"}
        # the skip link is the first focusable element and leads past the map's links
        page.goto(pages["index"].resolve().as_uri())
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#tabel"
    finally:
        page.close()


def _csv_from_link(html: str, filename: str):
    import io
    import re
    import urllib.parse

    import pandas as pd

    m = re.search(rf'download="{re.escape(filename)}" href="data:text/csv;charset=utf-8,([^"]+)"', html)
    assert m, f"no CSV download link {filename}"
    text = urllib.parse.unquote(m.group(1))
    assert text.startswith("\ufeff")
    return pd.read_csv(io.StringIO(text[1:]), sep=";", decimal=",")


def test_sheet_csv_download_holds_the_numbers_of_the_table(browser, pages):
    from analysis.factsheets.fmt import fmt_value

    html = pages["BU06420305"].read_text(encoding="utf-8")
    csv = _csv_from_link(html, "kerncijfers-bu06420305.csv")
    assert len(csv) >= 10 and set(csv["herkomst"]) <= {"echt", "synthetisch"}
    page = browser.new_page()
    try:
        page.goto(pages["BU06420305"].resolve().as_uri())
        heads = page.locator("table.kern thead th").all_inner_texts()[1:]
        table = {}
        for row in page.locator("table.kern tbody tr").all():
            label = row.locator("th").inner_text()
            for area, cell in zip(heads, row.locator("td").all_inner_texts(), strict=True):
                table[(label, area)] = cell
    finally:
        page.close()
    for r in csv.itertuples():
        cell = table[(r.indicator, r.gebied)]
        assert cell.startswith(fmt_value(r.waarde, r.eenheid)), (r.indicator, r.gebied, cell, r.waarde)
    shown = [k for k, v in table.items() if v != "n.b."]
    assert len(shown) == len(csv)  # every shown number is in the download, nothing more


def test_overview_csv_download_matches_rows(pages):
    html = pages["index"].read_text(encoding="utf-8")
    csv = _csv_from_link(html, "gebieden.csv")
    assert {"GM0642", "FG03", "BU06420305"} <= set(csv["gebiedscode"])
    assert html.count("<tr data-niveau=") == len(csv)


def test_method_links_resolve_to_html_pages_and_files_are_world_readable(pages):
    import re
    import stat

    folder = pages["index"].parent
    for name in ("index", *AREAS):
        html = pages[name].read_text(encoding="utf-8")
        for href in re.findall(r"href='(methode/[^']+)'|href=\"(methode/[^\"]+)\"", html):
            target = folder / (href[0] or href[1])
            assert target.exists(), target
            assert "<h1" in target.read_text(encoding="utf-8")
        assert ".md'" not in html and '.md"' not in html
    for f in [*folder.glob("*.html"), *folder.glob("methode/*.html")]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f
