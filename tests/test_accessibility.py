"""Accessibility of the pages a policy adviser reads: axe-core in the Debian Chromium (no download).

axe-core comes from the npm registry (`make test` runs `npm pack axe-core` first, pinned in the Makefile);
Playwright for Python drives the system Chromium. Zero serious or critical violations are allowed.

One browser and one tab serve the whole module (a new tab is a new renderer process, ~0.2 CPU-s); each
test opens its page with :func:`_open`, which sets the media and the viewport first, so no test depends
on what an earlier one left. Each sheet is loaded once for its axe run and its visible text (`seen`).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

import pytest

from analysis.config import PROJ_ROOT
from tests.conftest import RENDERED_AREAS

AXE = Path(os.environ.get("VEERKRACHT_AXE_JS", PROJ_ROOT / ".venv" / "share" / "axe" / "axe.min.js"))
AREAS = RENDERED_AREAS  # gemeente, focus area, buurt, wijk


@pytest.fixture(scope="module")
def pages(rendered) -> dict[str, Path]:
    # the session's one batch of these four sheets (conftest.rendered), shared with test_spelling
    folder = rendered.outputs / "factsheets"
    return {"index": folder / "index.html", **{c: next(folder.glob(f"{c.lower()}-*.html")) for c in AREAS}}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is required (.ci/run installs it with apt)"
    assert AXE.exists(), f"{AXE} missing: `make test` fetches axe-core from the npm registry"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def tab(browser):
    page = browser.new_page()
    yield page
    page.close()


SCREEN = {"width": 1280, "height": 720}  # Playwright's default viewport
PRINT_WIDTH = {"width": round(188 * 96 / 25.4), "height": 1000}  # the A4 content width (210 - 2*11 mm)


def _open(tab, page_path: Path, *, media: str = "null", viewport: dict = SCREEN):
    """``page_path`` in the module's tab, as a fresh page with this media and viewport ("null": no
    emulation, as in a new tab; PDF printing then uses the print style sheet)."""
    tab.emulate_media(media=media)
    tab.set_viewport_size(viewport)
    tab.goto(page_path.resolve().as_uri())
    return tab


def _run_axe(tab) -> list[dict]:
    """axe's violations on the page open in ``tab``."""
    tab.add_script_tag(content=_axe_js())
    return tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")["violations"]


@functools.cache
def _axe_js() -> str:
    return AXE.read_text(encoding="utf-8")


def _axe(tab, page_path: Path) -> list[dict]:
    _open(tab, page_path)
    return _run_axe(tab)


@pytest.fixture(scope="module")
def seen(tab, pages):
    """name -> what one load of that page shows: the visible text as it opens (details closed),
    axe's violations on that page, then the visible text with every details element open."""

    @functools.cache
    def look(name: str) -> dict:
        _open(tab, pages[name])
        closed = tab.inner_text("body")
        violations = _run_axe(tab)
        tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        return {"closed": closed, "violations": violations, "opened": tab.inner_text("body")}

    return look


@pytest.mark.parametrize("name", ["index", *AREAS])
def test_no_serious_or_critical_axe_violations(seen, pages, name):
    bad = [v for v in seen(name)["violations"] if v["impact"] in ("serious", "critical")]
    detail = [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in bad]
    assert not bad, f"{pages[name].name}: {detail}"


def test_axe_catches_a_planted_violation(tab, pages, tmp_path):
    """The check itself must be able to fail: white text on the old green badge (2.87:1)."""
    html = pages["index"].read_text(encoding="utf-8")
    bad = tmp_path / "bad.html"
    bad.write_text(
        html.replace("</main>", "<p style='color:#fff;background:#27ae60'>laag contrast</p></main>")
    )
    assert any(v["id"] == "color-contrast" for v in _axe(tab, bad))


def test_overview_sorts_by_keyboard_with_aria_sort_and_filters(tab, pages):
    page = _open(tab, pages["index"])
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
    _open(tab, pages["index"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#tabel"


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


def test_sheet_csv_download_holds_the_numbers_of_the_table(tab, pages):
    import re

    from analysis.factsheets.fmt import fmt_value

    html = pages["BU06420305"].read_text(encoding="utf-8")
    csv = _csv_from_link(html, "kerncijfers-bu06420305.csv")
    assert len(csv) >= 10 and set(csv["herkomst"]) <= {"echt", "synthetisch"}
    page = _open(tab, pages["BU06420305"])
    heads = page.locator("table.kern thead th").all_inner_texts()
    assert heads[:2] == ["Indicator", "Jaar"]
    table, years = {}, {}
    for row in page.locator("table.kern tbody tr:not(.groep)").all():
        label = row.locator("th").inner_text()
        year, *cells = row.locator("td").all_inner_texts()
        years[label] = year
        for area, cell in zip(heads[2:], cells, strict=True):
            table[(label, area)] = cell
    for r in csv.itertuples():
        cell = table[(r.indicator, r.gebied)]
        assert cell.startswith(fmt_value(r.waarde, r.eenheid)), (r.indicator, r.gebied, cell, r.waarde)
        # one year per row; a figure of another year (the nearest real one) carries its own year
        own = re.search(r"\((\d{4})\)", cell)
        assert (own.group(1) if own else years[r.indicator]) == str(r.jaar), (r.indicator, r.gebied, cell)
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


def _pdf_pages(tab, page_path: Path) -> tuple[int, float]:
    """(A4 pages of Chromium's print to PDF, pages the content needs without break losses)."""
    import re

    page = _open(tab, page_path)
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    # content height in print layout at the A4 content width (210 - 2*11 mm; 297 - 2*10 mm)
    page.set_viewport_size(PRINT_WIDTH)
    page.emulate_media(media="print")
    needed = page.evaluate("document.documentElement.scrollHeight") / (277 * 96 / 25.4)
    # every page object is '/Type /Page' (the tree nodes are '/Type /Pages')
    n = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
    count = re.search(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf) or re.search(
        rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf
    )
    assert count and int(count.group(1)) == n, "page count of the PDF is ambiguous"
    return n, needed


@pytest.mark.parametrize(("name", "budget"), [("BU06420305", 3), ("GM0642", 3), ("WK064203", 3)])
def test_sheet_prints_within_its_a4_page_budget_without_half_empty_pages(tab, pages, name, budget):
    n, needed = _pdf_pages(tab, pages[name])
    assert 1 <= n <= budget, f"{pages[name].name}: {n} A4 pages, budget {budget}"
    # page breaks (figures and table rows kept whole) may not cost a whole page: no half-empty pages
    assert n - needed < 1, f"{pages[name].name}: {n} pages for {needed:.2f} pages of content"


@pytest.mark.parametrize("name", ["BU06420305", "GM0642"])
def test_print_text_at_least_8pt_and_charts_at_least_8cm(tab, pages, name):
    page = _open(tab, pages[name], media="print", viewport=PRINT_WIDTH)
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter(e => {
             const s = getComputedStyle(e);
             return s.display !== 'none' && e.offsetParent !== null && s.position !== 'absolute'
               && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
           }).map(e => [e.tagName, e.className, parseFloat(getComputedStyle(e).fontSize)])"""
    )
    widths = page.evaluate(
        "() => [...document.querySelectorAll('main figure img, main figure svg')]"
        ".filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().width)"
    )
    small = [(t, c, round(px * 0.75, 2)) for t, c, px in sizes if px * 0.75 < 8 - 1e-6]
    assert sizes and not small, f"{name}: text below 8 pt in print: {small[:5]}"
    cm = [w / 96 * 2.54 for w in widths]
    assert cm and min(cm) >= 8 - 1e-6, f"{name}: printed charts {[round(c, 1) for c in cm]} cm wide"


def test_print_breaks_words_only_between_words(tab, pages):
    page = _open(tab, pages["BU06420305"], media="print")
    styles = page.evaluate(
        """() => [...document.querySelectorAll('main td, main th, main p, main li')].map(e => {
             const s = getComputedStyle(e); return [s.overflowWrap, s.wordBreak, s.hyphens]; })"""
    )
    assert styles
    bad = {tuple(s) for s in styles if s[0] == "anywhere" or s[1] == "break-all" or s[2] == "auto"}
    assert not bad, bad


DEVELOPER_WORDS = re.compile(
    r"\b(seed|parquet|snapshot|synthetic)\b"  # English pipeline words
    r"|\banalysis\.\w+"  # module paths
    r"|\b(data/raw|data/processed|outputs)/|\w+\.(py|parquet|yaml|ya?ml|md|csv)\b"  # file paths
    r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}",  # ISO time stamps
    re.IGNORECASE,
)


@pytest.mark.parametrize("name", ["index", *AREAS])
def test_no_developer_words_in_the_visible_text(seen, pages, name):
    closed, opened = seen(name)["closed"], seen(name)["opened"]
    assert len(closed) > 500
    for text in (closed, opened):
        hits = sorted({m.group(0) for m in DEVELOPER_WORDS.finditer(text)})
        assert not hits, f"{pages[name].name}: {hits}"
    if name != "index":
        # the technical account is there, collapsed, and names the CBS tables
        assert "Technische verantwoording" in closed and "85618NED" not in closed.split("Technische")[-1]
        assert re.search(r"\d{5}NED", opened.split("Technische verantwoording")[-1])
        # the data's date (newest year shown), the build date apart in the colophon
        assert re.search(r"Stand van de gegevens: echte cijfers t/m \d{4}", closed)
        assert re.search(r"Tabellen gebouwd op:?\s*\d{1,2} [a-z]+ \d{4}", closed)


def test_overview_map_names_areas_by_keyboard_and_badges_once_per_column(tab, pages):
    import re

    html = pages["index"].read_text(encoding="utf-8")
    table = html[html.index("<table class='sortable' id='gebieden'>") : html.index("</table>")]
    head, body = table.split("</thead>", 1)
    assert "badge-synthetic" not in body  # no badge per cell
    synth_cols = head.count("badge-synthetic")
    assert 1 <= synth_cols <= 2  # SES-WOA and/or laag inkomen, each once in its column head
    heads = re.findall(r"<button type='button'>([^<]*)</button>", head)
    assert "Kans op signaal (buurt)" in heads and any(
        h.startswith("Inwoners in buurten met signaal") for h in heads
    )
    page = _open(tab, pages["index"])
    first = page.locator("svg.kaart a").first
    label = first.get_attribute("aria-label")
    assert first.locator("title").text_content() == label  # tooltip with the area's name
    first.focus()
    assert page.locator("#kaart-naam").inner_text() == label  # the name shown on keyboard focus
