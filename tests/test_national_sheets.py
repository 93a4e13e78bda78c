"""National fact sheets (issue 22 item 10): real names or the code stated once, the newest population
year in the headline, "wijken" where wijken are compared, and no programme text that contradicts the
municipal run."""

from __future__ import annotations

import pytest

from analysis.config import PROJ_ROOT
from tests.national_fixtures import NATIONAL_SHEETS, SMALL_GEMEENTEN
from tests.test_factsheets import visible_text

RAW = PROJ_ROOT / "data" / "raw"
ONLY = ["GM0642", "WK064201", "WK0363AA"]


@pytest.fixture(scope="module")
def sheets(national_pages, national_store):
    """Pages of ONLY and the overview pages of their municipalities, from the session's fork-pool run
    over the offline national build (tests/national_fixtures.py ``national_pages``; it renders the
    sheets of tests/test_national.py too, in the same outputs folder)."""
    res = national_pages.summary
    assert res["ok"] == len(NATIONAL_SHEETS) and res["failed"] == 0
    assert set(ONLY) <= set(NATIONAL_SHEETS)

    def wanted(name: str) -> bool:
        gm, file = name.split("/")
        code = file.split("-")[0].removesuffix(".html").upper()
        return gm in ("GM0642", "GM0363") and (file == "index.html" or code in ONLY)

    pages = {k: v.decode("utf-8") for k, v in national_pages.pages.items() if wanted(k)}
    return pages, national_store, national_pages.outputs


def _one(sheets, prefix):
    (html,) = [h for n, h in sheets[0].items() if n.split("/")[1].startswith(prefix)]
    return html, visible_text(html)


def test_an_area_without_a_name_in_our_data_shows_its_code_once_not_a_made_up_name(sheets):
    html, text = _one(sheets, "wk0363aa")
    assert "Wijk AA" not in text and "(Amsterdam)" not in text
    assert "<title>Factsheet WK0363AA</title>" in html and "<h1>WK0363AA</h1>" in html
    assert text.count("Geen naam in de gegevens die we hebben") == 1
    assert "GM0363/wk0363aa.html" in sheets[0]
    # a name the data hold (KWB 2017) is used as it is
    _, walburg = _one(sheets, "wk064201")
    assert "Wijk 01 Walburg" in walburg


def test_headline_population_is_the_newest_real_year(sheets):
    from analysis.national.build import read_partitioned

    ind = read_partitioned(sheets[1] / "nederland" / "indicators", ["GM0642"])
    inw = ind[(ind.region_code == "GM0642") & (ind.indicator == "inwoners") & (ind.origin != "synthetic")]
    newest = inw.sort_values("year").iloc[-1]
    assert newest.year == 2024
    _, text = _one(sheets, "gm0642")
    assert f"In Zwijndrecht woonden in 2024 {int(newest.value):,} mensen.".replace(",", ".") in text
    assert "woonden in 2017" not in text


def test_wijken_are_called_wijken_and_the_programme_is_not_denied(sheets):
    for prefix in ("gm0642", "wk064201", "wk0363aa"):
        _, text = _one(sheets, prefix)
        assert "(en)" not in text
        # offline no signal rule is shown (no signal from synthetic inputs alone); where it is, after a
        # live pull, it names wijken: test_after_a_live_pull_a_wijk_with_real_inputs_shows_its_signal
        assert "gemiddelde van de buurten van de gemeente" not in text
        assert "Buurten in dit gebied" not in text and "woont in een buurt met" not in text
    for name in ("gm0642-zwijndrecht.html", "wk064201-wijk-01-walburg.html", "index.html"):
        text = visible_text(sheets[0][f"GM0642/{name}"])
        assert "Geen focusgebieden/programmadoelen voor deze gemeente" not in text
        assert "landelijke vergelijking neemt" in text
    index = visible_text(sheets[0]["GM0642/index.html"])
    assert "Inwoners in wijken met signaal" in index and "Kans op signaal (wijk)" in index
    assert "buurten met signaal" not in index and "samenstelling van hun buurten" not in index
    # another gemeente still says it has no programme
    _, ams = _one(sheets, "wk0363aa")
    assert "Geen focusgebieden/programmadoelen voor deze gemeente" in ams


# --- issue 25 item 2: real first; no finding from synthetic inputs alone ------------------------------

# what a sheet shows when it presents a signal, class, score or share of inhabitants as a finding
FINDING_MARKERS = (
    "Uitkomst van de signaalregel",  # the signal as verdict (Oordeel, In het kort, Veerkracht)
    "(as A:",  # the axis levels with their class (Oordeel)
    "(as B:",
    "Ontwikkeling 20",  # the trend classes (Oordeel)
    "Niveau t.o.v. gemeente",  # the axis table (Veerkracht)
    "met een signaal",  # share of inhabitants / count of wijken with a signal
    "Let op: dit oordeel rust (deels) op synthetische cijfers",  # a verdict on synthetic inputs
    "berekend op (deels) synthetische invoer",
)


def _oordeel(text: str) -> str:
    start = text.index("Oordeel in het kort")
    return text[start : text.index("In het kort", start + 1)]


def test_offline_no_sheet_shows_a_signal_from_synthetic_inputs_alone_and_each_leads_with_what_is_real(sheets):
    import pandas as pd

    from analysis.factsheets.fmt import SYNTH_BADGE
    from analysis.national.build import read_partitioned
    from analysis.national.index import NEEDS_REAL_DATA_SENTENCE, finding_columns

    sentence = NEEDS_REAL_DATA_SENTENCE.replace("`", "")  # as read: the command is <code> on the page
    from analysis.resilience.national import percentile
    from analysis.sources.snapshot import lbm2_national_classes

    pages, processed, out = sheets
    scores = pd.read_parquet(processed / "nederland" / "resilience_scores.parquet").set_index("region_code")
    ind = read_partitioned(processed / "nederland" / "indicators", ["GM0642", "GM0363"])
    classes = lbm2_national_classes(RAW / "snapshot")
    sheet_pages = {n: h for n, h in pages.items() if not n.endswith("/index.html")}
    assert len(sheet_pages) == len(ONLY)
    for name, html in sheet_pages.items():
        code = name.split("/")[1].split("-")[0].removesuffix(".html").upper()
        # offline every input of the signal is synthetic: the sheet may show no finding from it
        assert scores.loc[code, "input_origins"] == "synthetic" and scores.loc[code, "alleen_synthetisch"]
        text = visible_text(html)
        for marker in FINDING_MARKERS:
            assert marker not in text, (name, marker)
        for word in ("geen signaal", "aandacht"):  # no signal class anywhere on the page
            assert word not in text.lower(), (name, word)
        # the one sentence: leading the verdict and in the Veerkracht section, nowhere else
        verdict = _oordeel(text)
        assert sentence in verdict and "veerkracht fetch --scope nederland" in verdict
        assert text.count(sentence) == 2
        assert "Veerkrachtsignaal Niet getoond: al zijn invoer is synthetisch" in text  # no empty cell
        # the command as code, never with the terminal's back quotes; the summary of real figures alone
        # carries no synthetic badge (real numbers are never labelled synthetic)
        assert "`" not in text and html.count("<code>veerkracht fetch --scope nederland</code>") == 2
        summary = html[html.index('<p class="summary">') :]
        assert SYNTH_BADGE not in summary[: summary.index("</p>")], name
        # real first: the verdict opens with Leefbaarometer 2.0 and the area's real figures with their year
        assert verdict.index("Leefbaarometer 2.0 (echte cijfers") < verdict.index(sentence)
        inw = ind[(ind.region_code == code) & (ind.indicator == "inwoners") & (ind.origin != "synthetic")]
        newest = inw.sort_values("year").iloc[-1]
        assert f"inwoners {int(newest.value):,} ({int(newest.year)};".replace(",", ".") in verdict
        lvl, what = ("wijk", "wijken") if code.startswith("WK") else ("gemeente", "gemeenten")
        c = classes[(classes.level == lvl)]
        own = c[c.region_code == code].sort_values("year")
        if own.empty:  # a 2024 code the 2016 meting does not know: said, not left empty
            assert f"geen cijfer voor {code}; de meting 2016 kent de" in verdict
            continue
        first, last = own.iloc[0], own.iloc[-1]
        p_last = percentile(c[c.year == last.year]["klasse"], last.klasse)
        p_first = percentile(c[c.year == first.year]["klasse"], first.klasse)
        assert (
            f"klasse {int(last.klasse)} in {int(last.year)}, percentiel {round(p_last)} onder alle "
            f"Nederlandse {what} (hoger = beter; {int(first.year)}: klasse {int(first.klasse)}, "
            f"percentiel {round(p_first)})"
        ) in verdict
    assert any("geen cijfer voor" in _oordeel(visible_text(h)) for h in sheet_pages.values())
    assert any("klasse" in _oordeel(visible_text(h)) for h in sheet_pages.values())
    # the scores the sheets and the municipality's overview read hold no finding on those rows
    view = pd.read_parquet(out / "GM0642" / "resilience" / "scores.parquet")
    assert view["alleen_synthetisch"].all() and view[finding_columns(view)].isna().all().all()
    index = pages["GM0642/index.html"]
    rows = index.count("<tr data-niveau=")
    assert rows == 10 and index.count("vraagt echte cijfers: veerkracht fetch --scope nederland") == rows
    # the national overview: no share of inhabitants from synthetic inputs alone, the one sentence instead
    from analysis.national.overview import write_national_index

    regions = pd.read_parquet(processed / "nederland" / "regions.parquet")
    national = write_national_index(out, regions, scores.reset_index()).read_text(encoding="utf-8")
    n = len({"GM" + c[2:6] for c in NATIONAL_SHEETS})  # the municipalities with sheets in `out`
    assert f"Voor {n} gemeenten geven we geen veerkrachtsignaal" in national
    assert national.count("<td>vraagt echte cijfers </td>") == n and "synthetische invulling" not in national
    for html in [*sheet_pages.values(), index]:  # no signal badge (rood, oranje, neutraal) anywhere
        assert not any(f'class="badge badge-{k}"' in html for k in ("rood", "oranje", "neutraal"))


def _cut_to_small(table: dict) -> dict:
    """The all-NL 85984NED of tests/fake_cbs.py with only the rows (and region keys) of
    SMALL_GEMEENTEN's gemeenten and wijken, as tests/national_fixtures.py cuts the snapshot."""
    numbers = {g[2:6] for g in SMALL_GEMEENTEN}

    def keep(key: str) -> bool:
        return key[:2] in ("GM", "WK") and key[2:6] in numbers

    cut = {
        **table,
        "WijkenEnBuurten": [d for d in table["WijkenEnBuurten"] if keep(d["Key"])],
        "TypedDataSet": [r for r in table["TypedDataSet"] if keep(r["WijkenEnBuurten"])],
    }
    assert {r["WijkenEnBuurten"][2:6] for r in cut["TypedDataSet"]} == numbers
    return cut


def test_after_a_live_pull_a_wijk_with_real_inputs_shows_its_signal(tmp_path, small_snapshot):
    """`veerkracht fetch --scope nederland` against the CBS-shaped server (tests/fake_cbs.py): Walburg's
    inputs are then real (partly; the rest labelled synthetic, the municipal rule) and its sheet shows
    the signal the analysis computed, with the signal rule in wijken; no 'needs real data' sentence.
    The snapshot and the national pull hold five municipalities (tests/national_fixtures.py
    SMALL_GEMEENTEN, Zwijndrecht among them): what a wijk with real inputs shows does not depend on how
    many municipalities are built."""
    import pandas as pd

    from analysis.config import cbs_registry
    from analysis.factsheets.runner import run_batch
    from analysis.national import run as national
    from analysis.national.index import NEEDS_REAL_DATA_SENTENCE
    from analysis.sources import cbs
    from analysis.sources import cbs_national as cn
    from tests.fake_cbs import FakeCbs, national_kwb_2024, registry_tables

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "snapshot").symlink_to(small_snapshot, target_is_directory=True)
    tables = registry_tables(cbs_registry())
    tables["85984NED"] = _cut_to_small(national_kwb_2024(buurten=False))
    with FakeCbs(tables, page_size=2000) as srv:
        client = cbs.CbsClient(cbs.CbsSettings(catalog_url=srv.url, retries=1, backoff_s=0.0))
        s = cn.fetch_national(client, cbs_registry(), raw / "cbs", range(2013, 2026), "wijk", log=lambda _: 0)
    assert not s["failed"]
    processed, outputs = tmp_path / "processed", tmp_path / "outputs"
    national.build(raw, processed, log=lambda line: None)
    only = ["WK064201"]
    views = national.views("nederland", None, raw, processed, outputs, only=only)
    res = run_batch(views, only=only, force=True, workers=1, force_workers=True, progress=False)
    assert res["ok"] == 1 and res["failed"] == 0
    scores = pd.read_parquet(processed / "nederland" / "resilience_scores.parquet").set_index("region_code")
    row = scores.loc["WK064201"]
    origins = set(row["input_origins"].split(","))
    assert "cbs" in origins and not row["alleen_synthetisch"]  # real inputs from the pull
    assert row["signaal"] in ("signaal", "aandacht", "geen signaal")
    (sheet,) = (outputs / "nederland" / "GM0642" / "factsheets").glob("wk064201-*.html")
    text = visible_text(sheet.read_text(encoding="utf-8"))
    assert NEEDS_REAL_DATA_SENTENCE.replace("`", "") not in text and "Niet getoond" not in text
    assert f"Uitkomst van de signaalregel ten opzichte van de gemeente Zwijndrecht: {row['signaal']}." in text
    assert "gemiddelde van de wijken van de gemeente" in text  # the rule in wijken
    verdict = _oordeel(text)
    assert verdict.index("Leefbaarometer 2.0 (echte cijfers") < verdict.index("Uitkomst van de signaalregel")
    # partly synthetic inputs: labelled as in the municipal run
    synthetic = "synthetic" in origins
    assert ("Let op: dit oordeel rust (deels) op synthetische cijfers" in verdict) == synthetic
