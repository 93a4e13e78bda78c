"""Goals that follow the data, the goal catalogue's validation, and the voortgangsrapportage.

* config/doelen.yaml errors through the CLI: one ``fout:`` line, exit 2, outputs byte-identical.
* A goal pointed at an indicator of origin ``local`` (a partner's file) gets a status exactly like a
  CBS goal: baseline, trend, interval, P(goal met), on course or not, with the supplier as source.
* outputs/<GM>/voortgangsrapportage.html/.csv: all goals by pillar, four statuses, what is needed
  for the unmeasurable ones and who holds it, changes since the previous report.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from analysis import cli, config
from analysis.config import Paths
from analysis.goals.catalog import load_catalog
from analysis.goals.progress import CSV, HTML, PREVIOUS, REPORT_STATUSES, write_progress
from tests.conftest import use_paths

GOALS, RAW = load_catalog()
PARTNER_ID = "P7-06"  # "meldingen van overlast per 1000 inwoners": politie data in the programme text
SUPPLIER = "Politie Zwijndrecht"


def _clear_caches() -> None:
    config.settings.cache_clear()
    config.indicator_catalog.cache_clear()
    config.cbs_registry.cache_clear()


@pytest.fixture
def project(analysed, tmp_path, monkeypatch) -> Paths:
    """A private copy of processed/ + outputs/ (with goals) and of config/, the CLI pointed at both."""
    root = tmp_path / "t"
    shutil.copytree(analysed.processed, root / "processed")
    shutil.copytree(analysed.outputs, root / "outputs")
    shutil.copytree(analysed.raw, root / "raw")
    cfg = tmp_path / "config"
    shutil.copytree(config.CONFIG_DIR, cfg)
    monkeypatch.setattr(config, "CONFIG_DIR", cfg)
    _clear_caches()
    paths = Paths(raw=root / "raw", processed=root / "processed", outputs=root / "outputs")
    use_paths(monkeypatch, paths)
    yield paths
    monkeypatch.undo()
    _clear_caches()


def _hashes(paths: Paths) -> dict[str, str]:
    return {
        str(p.relative_to(base.parent)): hashlib.sha256(p.read_bytes()).hexdigest()
        for base in (paths.processed, paths.outputs)
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def _edit(name: str, old: str, new: str) -> None:
    path = config.CONFIG_DIR / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- config/doelen.yaml through the CLI ----------------------------------------------------------

BAD_CATALOG = [
    (
        "basisjaar_word",
        ["goals"],
        "basisjaar: 2020",
        "basisjaar: vijftien",
        ["doelen.yaml", "P1-01", "basisjaar", "vijftien"],
    ),
    (
        "basisjaar_word_report",
        ["report"],
        "basisjaar: 2015",
        "basisjaar: vijftien",
        ["doelen.yaml", "P2-03", "vijftien"],
    ),
    (
        "unknown_goal_key",
        ["goals"],
        "doeljaar: 2040, doeltype: pariteit",
        "doeljar: 2040, doeltype: pariteit",
        ["doelen.yaml", "doeljar", "onbekende sleutel", "'doeljaar'"],
    ),
    (
        "unknown_top_key",
        ["factsheets"],
        "status:\n",
        "statuss:\n",
        ["doelen.yaml", "statuss", "onbekende sleutel"],
    ),
    (
        "unknown_partner",
        ["goals"],
        "partner: [politie]}",
        "partner: [polities]}",
        ["doelen.yaml", "P7-05", "polities", "onbekende partner"],
    ),
    (
        "unmeasurable_without_partner",
        ["goals"],
        ", partner: [dgj]}",
        "}",
        ["doelen.yaml", "P6-06", "partner", "ontbreekt"],
    ),
    (
        "meetbaar_not_bool",
        ["goals"],
        "meetbaar: false",
        "meetbaar: misschien",
        ["doelen.yaml", "P1-02", "meetbaar", "true of false"],
    ),
    (
        "bad_doeltype",
        ["goals"],
        "doeltype: pariteit",
        "doeltype: gelijk",
        ["doelen.yaml", "doeltype", "gelijk"],
    ),
]


@pytest.mark.parametrize(
    "argv, old, new, needles", [c[1:] for c in BAD_CATALOG], ids=[c[0] for c in BAD_CATALOG]
)
def test_bad_goal_catalogue_is_one_fout_line_and_changes_nothing(project, capsys, argv, old, new, needles):
    _edit("doelen.yaml", old, new)
    before = _hashes(project)
    capsys.readouterr()
    rc = cli.main(argv)
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("fout:"), err
    for n in needles:
        assert n in err[0], err[0]
    assert _hashes(project) == before


def test_every_unmeasurable_goal_names_its_source_and_a_known_partner():
    open_ = [g for g in GOALS if not g.meetbaar]
    assert len(GOALS) == 58 and len(open_) == 49
    for g in open_:
        assert g.reden and g.bron and g.partner, g.id
        assert all(p in RAW["partners"] for p in g.partner), g.id
    coalition = [k for k, v in RAW["partners"].items() if v["coalitie"]]
    assert len(coalition) == 11  # the eleven coalition partners on page 1 of the programme


# --- goals pointed at partners' (local-origin) indicators: one build and one goals run -----------
#
# Three partner goals in ONE scenario (one `veerkracht build` and one `veerkracht goals`, module-wide;
# each test below asserts its own goal, so each still fails on its own breakage):
# * P7-06 (overlast_per_1000, declared in the shipped config/indicators.yaml): the police's file in
#   data/raw/local -> build -> goals (end to end);
# * P7-05 (e33_per_1000, declared here): local-origin rows planted in indicators.parquet after the
#   build, with a known course per focus area;
# * P7-07 (jongeren_politie_per_1000, declared here): declared and pointed at, no rows delivered.

PLANTED_ID, PLANTED = "P7-05", "e33_per_1000"
ABSENT_ID, ABSENT = "P7-07", "jongeren_politie_per_1000"
LOCAL_INDICATORS = f"""
{PLANTED}:
  label: "E33-meldingen per 1.000 inwoners"
  unit: per 1000
  kind: rate
  weight: inwoners
  source:
    file: "e33_*.csv"
    columns: {{area: buurtcode, year: jaar, value: meldingen_per_1000}}
    supplier: "{SUPPLIER}"
{ABSENT}:
  label: "Jongeren tot 27 jaar in aanraking met de politie per 1.000 inwoners"
  unit: per 1000
  kind: rate
  weight: inwoners
  source:
    file: "jongeren_politie_*.csv"
    columns: {{area: buurtcode, year: jaar, value: per_1000}}
    supplier: "{SUPPLIER}"
"""


def _partner_goal(goal_id: str, indicator: str) -> str:
    return (
        f'  - {{id: {goal_id}, pijler: 7, tekst: "In 2040 is het aantal {indicator} in de focusbuurten '
        'gelijk aan het gemiddelde van Zwijndrecht", meetbaar: true, '
        f"indicator: {indicator}, geografie: [focusgebieden_samen, elk_focusgebied], basisjaar: 2018, "
        "doeljaar: 2040, doeltype: pariteit, richting: lager_beter, partner: [politie, gemeente]}\n"
    )


def plant_local_series(paths: Paths, indicator: str, gemeente: str = "GM0642") -> pd.DataFrame:
    """Local-origin rows for ``indicator``: the municipality and the focus areas, 2016-2024 (seeded).

    FG00 (all focus areas) closes its gap on the municipality fast; FG01 drifts away from it."""
    rng = np.random.default_rng(642)
    years = np.arange(2016, 2025)
    series = {
        gemeente: 20 + rng.normal(0, 0.3, len(years)),
        "FG00": 34 - 2.2 * (years - 2016) + rng.normal(0, 0.3, len(years)),
        "FG01": 30 + 0.8 * (years - 2016) + rng.normal(0, 0.3, len(years)),
    }
    level = {gemeente: "gemeente", "FG00": "focusgebied", "FG01": "focusgebied"}
    rows = pd.DataFrame(
        [
            {
                "region_code": code,
                "level": level[code],
                "year": int(y),
                "indicator": indicator,
                "value": float(v),
                "unit": "per 1000",
                "source_table": f"{SUPPLIER} (e33_2024.csv)",
                "origin": "local",
                "provisional": False,
                "coverage": np.nan,
            }
            for code, vals in series.items()
            for y, v in zip(years, vals, strict=True)
        ]
    )
    target = paths.processed / "indicators.parquet"
    ind = pd.read_parquet(target)
    pd.concat([ind, rows.astype({c: ind[c].dtype for c in rows.columns})], ignore_index=True).to_parquet(
        target, index=False
    )
    return rows


def point_goals_at_partner_data() -> None:
    """Declare the two test indicators and point P7-06, P7-05 and P7-07 at partner data."""
    ind_yaml = config.CONFIG_DIR / "indicators.yaml"
    text = ind_yaml.read_text(encoding="utf-8")
    assert "\noverlast_per_1000:" in text  # the partner-data work declares it as the example
    ind_yaml.write_text(text + LOCAL_INDICATORS, encoding="utf-8")
    _clear_caches()
    path = config.CONFIG_DIR / "doelen.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for goal_id, indicator in ((PARTNER_ID, "overlast_per_1000"), (PLANTED_ID, PLANTED), (ABSENT_ID, ABSENT)):
        at = [i for i, ln in enumerate(lines) if ln.startswith(f"  - {{id: {goal_id},")]
        assert len(at) == 1
        lines[at[0]] = _partner_goal(goal_id, indicator)
    path.write_text("".join(lines), encoding="utf-8")


def _partner_file(paths: Paths) -> bytes:
    """overlast_2024.csv as a partner sends it: ';', decimal comma, codes without 'BU', 2016-2024.

    Seeded; the focus buurten start high and fall fast, the other buurten stay near 20 per 1.000."""
    import geopandas as gpd

    reg = gpd.read_file(paths.processed / "regions.gpkg", layer="regions")
    buurt = reg[reg["level"] == "buurt"]
    rng = np.random.default_rng(21)
    lines = ["buurtcode;jaar;meldingen_per_1000"]
    for code, focus in zip(buurt["region_code"], buurt["focusgebied"].notna(), strict=True):
        for y in range(2016, 2025):
            v = (40 - 3.0 * (y - 2016) if focus else 20.0) + rng.normal(0, 0.5)
            lines.append(f"{code[2:]};{y};{v:.1f}".replace(".", ","))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


@pytest.fixture(scope="module")
def partner_goals(analysed, tmp_path_factory):
    """The module's one partner scenario (see above): a private copy of the analysed tree and of
    config/, the police's file in raw/local, `veerkracht build`, the planted rows, `veerkracht goals`.
    The configuration and the environment are restored before the tests read the outputs."""
    tmp = tmp_path_factory.mktemp("partner_goals")
    root = tmp / "t"
    shutil.copytree(analysed.processed, root / "processed")
    shutil.copytree(analysed.outputs, root / "outputs")
    shutil.copytree(analysed.raw, root / "raw")
    paths = Paths(raw=root / "raw", processed=root / "processed", outputs=root / "outputs")
    with pytest.MonkeyPatch.context() as mp:
        cfg = tmp / "config"
        shutil.copytree(config.CONFIG_DIR, cfg)
        mp.setattr(config, "CONFIG_DIR", cfg)
        _clear_caches()
        use_paths(mp, paths)
        try:
            (paths.raw / "local" / "overlast_2024.csv").write_bytes(_partner_file(paths))
            point_goals_at_partner_data()
            for argv in (["build", "--no-cache"], ["goals"]):
                if argv == ["goals"]:
                    plant_local_series(paths, PLANTED)  # after the build, which rewrites the table
                err = io.StringIO()
                with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                    rc = cli.main(argv)
                assert rc == 0, (argv, err.getvalue())
        finally:
            _clear_caches()
    status = pd.read_parquet(paths.outputs / "goals" / "status.parquet")
    report = pd.read_csv(paths.outputs / CSV, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return paths, status, report


def test_goal_on_partner_data_gets_a_status_like_a_cbs_goal(partner_goals):
    _, status, report = partner_goals
    g = status[status["doel_id"] == PLANTED_ID].set_index("region_code")
    assert {"FG00", "FG01"} <= set(g.index)
    for region in ("FG00", "FG01"):
        r = g.loc[region]
        assert r["origin"] == "local" and not r["synthetic"]
        assert SUPPLIER in r["bron"]
        assert r["n_punten"] == 9 and r["model"]
        assert r["lo80"] <= r["prognose"] <= r["hi80"]
        assert 0 <= r["p_gehaald"] <= 1 and r["kans_band"]
    # the gap closes fast for all focus areas together and widens for FG01: the statuses differ
    assert g.loc["FG00", "status"] == "op koers"
    assert g.loc["FG01", "status"] == "niet op koers"
    # focus areas without a delivery have no series: no status invented
    assert (g.drop(index=["FG00", "FG01"])["status"] == "onvoldoende data").all()
    row = report[report["doel_id"] == PLANTED_ID].iloc[0]
    assert row["status"] == "op koers" and row["herkomst"] == "echt"
    assert SUPPLIER in row["bron"] and "local" not in row["bron"]  # no English origin code on a page
    assert "Politie" in row["bij_wie"] and row["laatste_jaar"] == "2024"
    assert "In 2040 naar verwachting" in row["prognose"] and "80%-interval" in row["prognose"]
    assert row["per_focusgebied"] == "15 focusgebieden: 1 niet op koers, 14 nog geen trend"


def test_partner_goal_without_a_delivery_says_whose_data_is_missing(partner_goals):
    _, status, report = partner_goals
    assert ABSENT not in set(pd.read_parquet(partner_goals[0].processed / "indicators.parquet")["indicator"])
    row = report[report["doel_id"] == ABSENT_ID].iloc[0]  # declared and pointed at, no rows delivered
    assert row["status"] == "nog geen trend"
    assert f"levering van {SUPPLIER} ontbreekt" in row["gegevens_nodig"]


def test_partner_file_end_to_end_gives_the_goal_a_status(partner_goals):
    paths, status, report = partner_goals
    ind = pd.read_parquet(paths.processed / "indicators.parquet")
    own = ind[ind["indicator"] == "overlast_per_1000"]
    assert set(own["origin"]) == {"local"} and {"FG00", "GM0642"} <= set(own["region_code"])
    r = status[(status["doel_id"] == PARTNER_ID) & (status["region_code"] == "FG00")].iloc[0]
    assert r["origin"] == "local" and SUPPLIER in r["bron"] and r["n_punten"] == 9
    assert r["status"] == "op koers" and 0.7 <= r["p_gehaald"] <= 1
    row = report[report["doel_id"] == PARTNER_ID].iloc[0]
    assert row["status"] == "op koers" and row["herkomst"] == "echt" and SUPPLIER in row["bron"]
    # the three goals pointed at partner data are no longer 'niet meetbaar' (49 in the shipped catalogue)
    assert (report["status"] == "niet meetbaar").sum() == 49 - 3


# --- the report itself ----------------------------------------------------------------------------


def _report(analysed) -> tuple[pd.DataFrame, str]:
    table = pd.read_csv(
        analysed.outputs / CSV, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    return table, (analysed.outputs / HTML).read_text(encoding="utf-8")


def test_report_lists_all_goals_by_pillar_with_four_statuses(analysed):
    table, html = _report(analysed)
    assert len(table) == 58 and table["doel_id"].tolist() == [
        g.id for g in sorted(GOALS, key=lambda g: g.pijler)
    ]
    assert set(table["status"]) <= set(REPORT_STATUSES)
    for nr, naam in RAW["pijlers"].items():
        assert f"Pijler {nr}: {naam}" in html
    for g in GOALS:
        assert f'<th scope="row">{g.id}</th>' in html
    open_ = table[table["status"] == "niet meetbaar"]
    assert len(open_) == 49 and (open_["gegevens_nodig"] != "").all() and (open_["bij_wie"] != "").all()
    # the poverty headline goal says what is measured
    gem = table[table["doel_id"] == "P2-03-GEM"].iloc[0]
    assert (
        "gemeente Zwijndrecht" in gem["gemeten"]
        and "25-64" in gem["gemeten"]
        and "lage welvaart" in gem["gemeten"]
    )
    assert gem["herkomst"] == "echt" and gem["status"] in ("op koers", "niet op koers")


def test_report_labels_synthetic_statuses_and_counts_them_apart(analysed):
    table, html = _report(analysed)
    synth = table[table["herkomst"] == "synthetisch"]
    assert len(synth), "offline, some goals rest on synthetic series"
    summary = html[html.index("Samenvatting") : html.index('id="doelen"')]
    real = summary.index("Op echte cijfers")
    assert real < summary.index("Op synthetische reeksen")  # real ones lead
    for gid in synth["doel_id"]:
        row = html[html.index(f'<th scope="row">{gid}</th>') :]
        row = row[: row.index("</tr>")]
        assert "badge-synthetic" in row, gid


def test_report_lists_changes_since_the_previous_report(analysed, tmp_path):
    paths = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "out")
    (paths.outputs / "goals").mkdir(parents=True)
    status = pd.read_parquet(analysed.outputs / "goals" / "status.parquet")
    names = {"GM0642": "Zwijndrecht"}
    write_progress(paths, GOALS, RAW, status, names)
    assert "eerste rapportage" in (paths.outputs / HTML).read_text(encoding="utf-8")
    assert not (paths.outputs / PREVIOUS).exists()
    write_progress(paths, GOALS, RAW, status, names)  # the same again: a previous report, no changes
    assert "bij geen enkel doel de status veranderd" in (paths.outputs / HTML).read_text(encoding="utf-8")
    # the headline goal's area moves from its status to 'onvoldoende data'
    changed = status.copy()
    hit = (changed["doel_id"] == "P2-03-GEM") & (changed["region_code"] == "GM0642")
    was = pd.read_csv(paths.outputs / CSV, sep=";", dtype=str, encoding="utf-8-sig").set_index("doel_id")
    changed.loc[hit, "status"] = "onvoldoende data"
    for _ in range(2):  # a rerun on the same data keeps the comparison with the last different report
        write_progress(paths, GOALS, RAW, changed, names)
        html = (paths.outputs / HTML).read_text(encoding="utf-8")
        assert f"<strong>P2-03-GEM</strong> {was.loc['P2-03-GEM', 'status']} (echt) → nog geen trend" in html
        assert html.count("<strong>P") == 1  # only that goal changed
        assert (paths.outputs / PREVIOUS).exists()
    write_progress(paths, GOALS, RAW, status, names)
    html = (paths.outputs / HTML).read_text(encoding="utf-8")
    assert "<strong>P2-03-GEM</strong> nog geen trend (echt) → " in html


def test_report_csv_neutralises_formula_prefixes(analysed, tmp_path):
    goals = list(GOALS)
    goals[1] = dataclasses.replace(goals[1], reden='=HYPERLINK("http://x")')
    paths = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "out")
    paths.outputs.mkdir(parents=True)
    status = pd.read_parquet(analysed.outputs / "goals" / "status.parquet")
    write_progress(paths, goals, RAW, status, {})
    text = (paths.outputs / CSV).read_text(encoding="utf-8-sig")
    assert ";'=HYPERLINK" in text.replace('"', "") and not re.search(r';"?=HYPERLINK', text)


def test_report_page_is_self_contained_printable_and_linked_back(analysed):
    _, html = _report(analysed)
    assert '<html lang="nl">' in html and "@page { size: A4" in html and "@media print" in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert 'href="factsheets/index.html"' in html
    assert html.count("<thead>") == 7  # one table per pillar, header row repeated when printed


# --- accessibility and print, as for the fact sheets (tests/test_accessibility.py) ---------------

from tests.test_accessibility import DEVELOPER_WORDS, _axe, _open, _pdf_pages, browser, tab  # noqa: E402, F401


def test_report_has_no_serious_axe_violations(tab, analysed):  # noqa: F811
    bad = [v for v in _axe(tab, analysed.outputs / HTML) if v["impact"] in ("serious", "critical")]
    assert not bad, [(v["id"], v["impact"], len(v["nodes"]), v["nodes"][0]["target"]) for v in bad]


def test_report_prints_without_half_empty_pages_and_without_developer_words(tab, analysed):  # noqa: F811
    n, needed = _pdf_pages(tab, analysed.outputs / HTML)
    assert n >= 2 and n - needed < 1, f"{n} pages for {needed:.2f} pages of content"
    _open(tab, analysed.outputs / HTML)
    tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = tab.inner_text("body")  # the visible text with every details element open
    assert len(text) > 500 and not DEVELOPER_WORDS.search(text), DEVELOPER_WORDS.search(text)


def test_overview_and_sheets_link_the_report_and_list_unmeasurable_goals(analysed, tmp_path):
    """The overview page (written by the runner's write_index) and the municipality's sheet (all its
    sections, as the template renders them) drawn in this process: a kernel adds nothing here."""
    from analysis.factsheets.context import load_context
    from analysis.factsheets.overview import write_index
    from analysis.factsheets.planning import select_areas
    from analysis.factsheets.sheet import Sheet

    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "out")
    shutil.copytree(analysed.outputs, p.outputs, ignore=shutil.ignore_patterns("factsheets", ".cache"))
    regions, areas = select_areas(p, int(config.settings()["min_inwoners"]), ["GM0642"])
    manifest = {"areas": [{"area": "GM0642", "status": "ok", "file": "gm0642-zwijndrecht.html"}]}
    write_index(p, areas, manifest, regions)
    index = p.outputs / "factsheets" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "href='../voortgangsrapportage.html'" in html
    assert (index.parent / "../voortgangsrapportage.html").resolve() == (p.outputs / HTML).resolve()
    sheet = Sheet(load_context(p), "GM0642").render_all()
    assert 'href="../voortgangsrapportage.html"' in sheet
    listed = sheet[sheet.index("Nog niet meetbare doelen (49)") :]
    listed = listed[: listed.index("</details>")]
    p705 = listed[listed.index("<strong>P7-05</strong>") :]
    assert "<em>Bij:</em> Politie." in p705[: p705.index("</li>")]  # the partner who holds E33 data
    assert listed.count("<li>") == 49
