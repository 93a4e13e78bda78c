"""Partner deliveries (issue 21): declared `source:` indicators, the bad deliveries of the contract,
disclosure control, `veerkracht sjabloon` / `veerkracht controleer`, Leefbaarometer 3.0 as published.

Everything runs through the command line (``cli.main``) on a private copy of data/raw and config/,
with the SYNTHETIC example delivery of tests/data/partner/ (seeded, see make_synthetic.py)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli, config
from analysis.config import PROJ_ROOT, Paths
from tests.conftest import TEST_DATA, use_paths

DELIVERY = TEST_DATA / "partner" / "SYNTHETISCH_schuldhulp_2022_2023.csv"
SUPPLIER = "Sociale Dienst Drechtsteden (SYNTHETISCH testbestand)"
PARTNER_YAML = f"""
schuldhulp_per_1000:
  label: "Huishoudens in schuldhulpverlening per 1.000 inwoners"
  unit: per 1000
  kind: rate
  source:
    file: "schuldhulp_*.csv"
    columns: {{area: Buurtcode, year: Jaar, value: "Aantal huishoudens in schuldhulp"}}
    supplier: "{SUPPLIER}"
    per: inwoners
    factor: 1000
schuldhulp_huishoudens:
  label: "Huishoudens in schuldhulpverlening"
  unit: aantal
  kind: count
  source:
    file: "schuldhulp_*.csv"
    columns: {{area: Buurtcode, year: Jaar, value: "Aantal huishoudens in schuldhulp"}}
    supplier: "{SUPPLIER}"
"""


LBM_FILE = "Leefbaarometer-scores buurten 2002-2024.csv"  # the name of the published export
LBM_OFFICIAL = (
    "bu_code,jaar,lbm,fys,onv,soc,vrz,won\n"
    "BU06420101,2022,4.1,0.01,-0.02,0.03,0.0,0.01\n"
    "BU06420102,2022,,0.01,NA,0.03,0.0,0.01\n"  # suppressed cells in a real export
    "BU0363AA01,2022,4.3,0.01,-0.02,0.03,0.0,0.01\n"  # alphanumeric code (Amsterdam)
    "BU06429901,2024,4.3,0.01,-0.02,0.03,0.0,0.01\n"  # a 2024 buurt not in our 2023 polygons
)


def _clear() -> None:
    config.settings.cache_clear()
    config.indicator_catalog.cache_clear()
    config.cbs_registry.cache_clear()


def _tree(root: Path, monkeypatch, delivery: bytes | None = DELIVERY.read_bytes()) -> Paths:
    """data/raw (with the delivery as schuldhulp_2023.csv), config/ with the two partner indicators,
    and an outputs folder holding an earlier page."""
    raw = root / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs", "pdok"))
    if delivery is not None:
        (raw / "local" / "schuldhulp_2023.csv").write_bytes(delivery)
    cfg = root / "config"
    shutil.copytree(PROJ_ROOT / "config", cfg)  # the project's own, whatever a module fixture set before
    (cfg / "indicators.yaml").write_text((cfg / "indicators.yaml").read_text() + PARTNER_YAML)
    monkeypatch.setattr(config, "CONFIG_DIR", cfg)
    _clear()
    paths = Paths(raw=raw, processed=root / "processed", outputs=root / "outputs")
    (paths.outputs / "factsheets").mkdir(parents=True)
    (paths.outputs / "factsheets" / "index.html").write_text("<p>vorige versie</p>\n")
    use_paths(monkeypatch, paths)
    return paths


def run(argv: list[str], capsys) -> tuple[int, list[str], list[str]]:
    capsys.readouterr()
    rc = cli.main(argv)
    cap = capsys.readouterr()
    return rc, [ln for ln in cap.out.splitlines() if ln], [ln for ln in cap.err.splitlines() if ln]


def tree_hash(paths: Paths) -> dict[str, str]:
    return {
        str(p.relative_to(base.parent)): hashlib.sha256(p.read_bytes()).hexdigest()
        for base in (paths.processed, paths.outputs)
        for p in sorted(base.rglob("*"))
        if p.is_file()
    }


def _module_build(root: Path, files: dict[str, bytes]):
    """A tree without the default delivery, ``files`` in data/raw/local, and one CLI build; the
    build's stderr lines are kept (module fixtures cannot use capsys)."""
    mp = pytest.MonkeyPatch()
    paths = _tree(root, mp, delivery=None)
    for name, data in files.items():
        (paths.local / name).write_bytes(data)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main(["build", "--no-cache"])
    return mp, paths, rc, [ln for ln in err.getvalue().splitlines() if ln]


@pytest.fixture(scope="module")
def partner_build(tmp_path_factory):
    """One CLI build with the synthetic delivery (module-wide), named in upper case
    (SCHULDHULP_2023.CSV: the declared glob must match in any case), beside Leefbaarometer 3.0 as
    published (UTF-8)."""
    mp, paths, rc, err = _module_build(
        tmp_path_factory.mktemp("partner"),
        {"SCHULDHULP_2023.CSV": DELIVERY.read_bytes(), LBM_FILE: LBM_OFFICIAL.encode("utf-8")},
    )
    assert rc == 0, err
    ind = pd.read_parquet(paths.indicators)
    sup = pd.read_parquet(paths.processed / "suppressed.parquet")
    regions = pd.DataFrame(__import__("geopandas").read_file(paths.regions).drop(columns="geometry"))
    yield paths, ind, sup, regions, err
    mp.undo()
    _clear()


@pytest.fixture(scope="module")
def bare_build(tmp_path_factory):
    """One CLI build WITHOUT the declared delivery (module-wide), with a delivery that matches no
    declared indicator (armoede_2024.csv) and Leefbaarometer 3.0 as published (UTF-16)."""
    mp, paths, rc, err = _module_build(
        tmp_path_factory.mktemp("bare"),
        {"armoede_2024.csv": DELIVERY.read_bytes(), LBM_FILE: LBM_OFFICIAL.encode("utf-16")},
    )
    yield paths, rc, err
    mp.undo()
    _clear()


@pytest.fixture
def good(tmp_path, monkeypatch, partner_build) -> Paths:
    """A private tree with an earlier good build in processed/ (for the byte-identical checks)."""
    paths = _tree(tmp_path, monkeypatch)
    shutil.copytree(partner_build[0].processed, paths.processed)
    yield paths
    monkeypatch.undo()
    _clear()


# --- the indicator lands in the processed layer ------------------------------------------------


def test_partner_indicator_lands_in_indicators_parquet(partner_build):
    _, ind, _, _, _ = partner_build
    rate = ind[ind["indicator"] == "schuldhulp_per_1000"]
    assert {"buurt", "wijk", "focusgebied"} <= set(rate["level"])
    assert set(rate["origin"]) == {"local"}  # one origin per series: no synthetic filler anywhere
    assert rate["source_table"].str.contains(SUPPLIER, regex=False).all()
    # filled in like a CBS indicator (unit from the catalogue, not provisional), so goals pick it up
    assert (rate["unit"] == "per 1000").all() and not rate["provisional"].any()
    assert rate.drop(columns="coverage").notna().all().all()
    # rate = count / inhabitants (nearest year held) * 1000; line 10 of the delivery: BU06420108 2022 = 18
    inw = ind[(ind["region_code"] == "BU06420108") & (ind["indicator"] == "inwoners")]
    near = inw.assign(d=(inw["year"] - 2022).abs() + (inw["year"] > 2022) * 0.5).sort_values("d").iloc[0]
    got = rate[(rate["region_code"] == "BU06420108") & (rate["year"] == 2022)]["value"].item()
    assert got == pytest.approx(18 / near["value"] * 1000)
    # codes as partners write them: without prefix, lower case, leading zero dropped (line 2, 4, 6)
    cnt = ind[ind["indicator"] == "schuldhulp_huishoudens"].set_index(["region_code", "year"])["value"]
    assert cnt[("BU06420101", 2022)] == 14 and cnt[("BU06420112", 2022)] == 17


def test_no_count_below_the_threshold_is_published(partner_build):
    """Primary suppression: no published count < 10, and no rate whose count is < 10."""
    _, ind, sup, _, _ = partner_build
    cnt = ind[ind["indicator"] == "schuldhulp_huishoudens"]
    assert len(cnt) and cnt["value"].min() >= 10
    rate = ind[ind["indicator"] == "schuldhulp_per_1000"]
    rate_keys = set(zip(rate["region_code"], rate["year"], strict=True))
    cnt_keys = set(zip(cnt["region_code"], cnt["year"], strict=True))
    assert rate_keys == cnt_keys  # a rate is shown exactly where its count may be shown
    small = sup[(sup["indicator"] == "schuldhulp_huishoudens") & (sup["reason"] == "<10")]
    assert len(small) > 20 and set(small["display"]) == {"< 10"}
    assert "value" not in sup.columns  # the hidden value is never stored
    marked = sup[(sup["reason"] == "<5")]
    assert len(marked) and set(marked["display"]) == {"< 5"}  # the partner's own marker, as delivered


def test_secondary_suppression_leaves_no_wijk_with_one_hidden_buurt(partner_build):
    _, ind, sup, regions, _ = partner_build
    hidden = sup[
        (sup["indicator"] == "schuldhulp_huishoudens")
        & sup["reason"].isin(["<10", "secundaire geheimhouding"])
    ]
    cnt = ind[ind["indicator"] == "schuldhulp_huishoudens"]
    buurt_wijk = regions.loc[regions["level"] == "buurt"].set_index("region_code")["wijk_code"]
    assert (hidden["reason"] == "secundaire geheimhouding").any()
    for (wijk, year), _ in cnt[cnt["level"] == "wijk"].groupby(["region_code", "year"]):
        n = hidden[(hidden["year"] == year) & hidden["region_code"].map(buurt_wijk).eq(wijk)]
        assert len(n) != 1, (wijk, year)


# --- bad deliveries: one fout line naming file, line, column; exit 2; outputs byte-identical -----

GOOD = DELIVERY.read_text(encoding="cp1252")
NEXT = f"regel {len(GOOD.splitlines()) + 1}"  # the line a bad row appended to the delivery is on
BAD = [
    ("unknown_code", GOOD + "BU06429999;Nergens;2022;12\r\n", [NEXT, "'Buurtcode'", "BU06429999"]),
    ("duplicate", GOOD + "BU06420101;Slagveld;2022;15\r\n", [NEXT, "BU06420101 2022", "regel 2"]),
    ("non_numeric", GOOD + "BU06420101;Slagveld;2021;veel\r\n", [NEXT, "'Aantal huishoudens", "veel"]),
    ("truncated_last_line", GOOD + "BU06420101;Slagveld;2021;1,\r\n", [NEXT, "'1,'"]),
    ("year_1899", GOOD + "BU06420101;Slagveld;1899;3\r\n", [NEXT, "'Jaar'", "1899"]),
    ("missing_column", GOOD.replace("Buurtcode;", "Gebied;", 1), ["regel 1", "'Buurtcode'", "ontbreekt"]),
    ("short_line", GOOD + "BU06420101;Slagveld\r\n", [NEXT, "velden"]),
]


@pytest.mark.parametrize("text,needles", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_delivery_fails_cleanly_and_keeps_outputs(good, capsys, text, needles):
    (good.local / "schuldhulp_2023.csv").write_bytes(text.encode("cp1252"))
    before = tree_hash(good)
    rc, _, err = run(["build", "--no-cache"], capsys)
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("fout: ") and "schuldhulp_2023.csv" in err[0], err
    for n in needles:
        assert n in err[0], err[0]
    assert tree_hash(good) == before


def test_declared_file_absent_is_said_once_and_the_build_runs_on(bare_build):
    paths, rc, err = bare_build
    absent = [ln for ln in err if "geen bestand 'schuldhulp_*.csv'" in ln]
    assert rc == 0 and len(absent) == 2, err  # once per declared indicator
    assert "schuldhulp_per_1000" not in set(pd.read_parquet(paths.indicators)["indicator"])


def test_undeclared_delivery_is_warned_about(bare_build):
    _, rc, err = bare_build
    assert rc == 0
    assert any("armoede_2024.csv" in ln and "past bij geen indicator" in ln for ln in err), err


# --- what partners really send ----------------------------------------------------------------


def _variants() -> dict[str, bytes]:
    text = GOOD.replace("\r\n", "\n")
    return {
        "utf16_tab": text.replace(";", "\t").encode("utf-16"),  # Excel "Unicode-tekst"
        "utf8_bom_comma": ("\ufeff" + text.replace(";", ",")).encode("utf-8"),
        "cp1252_semicolon": text.encode("cp1252"),
    }


@pytest.mark.parametrize("name", ["utf16_tab", "utf8_bom_comma", "cp1252_semicolon", "xlsx", "parquet"])
def test_every_shape_reads_to_the_same_values(tmp_path, name, monkeypatch):
    from analysis.sources import partner, partner_cli

    paths = _tree(tmp_path, monkeypatch, delivery=None)
    areas, _ = partner_cli.areas_for(paths)
    spec = next(
        s for s in partner.declared(config.indicator_catalog()) if s.indicator == "schuldhulp_huishoudens"
    )
    ref = partner.parse_delivery(DELIVERY, spec, areas)
    df = pd.read_csv(DELIVERY, sep=";", dtype=str, encoding="cp1252", keep_default_na=False)
    target = tmp_path / f"schuldhulp.{ {'xlsx': 'xlsx', 'parquet': 'parquet'}.get(name, 'csv') }"
    if name == "xlsx":
        df.to_excel(target, index=False)
    elif name == "parquet":
        df.to_parquet(target, index=False)
    else:
        target.write_bytes(_variants()[name])
    got = partner.parse_delivery(target, spec, areas)
    assert not got.problems, got.problems[:3]
    cols = ["region_code", "year", "value"]
    assert got.values[cols].equals(ref.values[cols]) and len(got.values) == 136
    assert got.missing["reason"].tolist() == ref.missing["reason"].tolist() == ["<5"] * 30


@pytest.fixture(scope="module")
def areas(partner_build):
    """The municipality's areas as the partner reader knows them (from data/raw, no build)."""
    from analysis.sources import partner_cli

    return partner_cli.areas_for(partner_build[0])[0]


@pytest.mark.parametrize(
    "raw,code",
    [("BU06420101", "BU06420101"), ("bu 0642 0101", "BU06420101"), ("06420101", "BU06420101"),
     ("6420101", "BU06420101"), ("064201", "WK064201"), ("wk064201", "WK064201"), ("642", "GM0642"),
     ("GM0642", "GM0642")],
)  # fmt: skip
def test_area_codes_as_partners_write_them(areas, raw, code):
    from analysis.sources import partner

    assert partner.normalize_code(raw, areas) == (code, None)
    assert partner.normalize_code("BU06429999", areas)[1].startswith("onbekende gebiedscode")
    assert partner.normalize_code("BU05050101", areas) == (None, None)  # Dordrecht: skipped, not an error


# --- sjabloon and controleer ------------------------------------------------------------------


def test_sjabloon_lists_every_area_and_round_trips_through_controleer(tmp_path, monkeypatch, capsys):
    import openpyxl

    paths = _tree(tmp_path, monkeypatch, delivery=None)
    rc, out, err = run(["sjabloon", "schuldhulp_huishoudens", "--jaren", "2024", "2025"], capsys)
    assert rc == 0, err
    folder = paths.outputs / "sjablonen"
    csv_text = (folder / "schuldhulp_huishoudens_sjabloon.csv").read_text(encoding="utf-8-sig")
    assert csv_text.startswith("# ") and "Aantallen onder 10 publiceren wij nooit" in csv_text
    wb = openpyxl.load_workbook(folder / "schuldhulp_huishoudens_sjabloon.xlsx")
    assert wb.sheetnames == ["Gegevens", "Instructie"]
    rows = list(wb["Gegevens"].iter_rows(values_only=True))
    assert rows[0] == ("Buurtcode", "gebiedsnaam", "niveau", "Jaar", "Aantal huishoudens in schuldhulp")
    codes = {r[0] for r in rows[1:]}
    assert "GM0642" in codes and "WK064201" in codes and "BU06420101" in codes and len(rows) - 1 == 2 * 102
    # filled in by the partner and checked: accepted
    for i, r in enumerate(wb["Gegevens"].iter_rows(min_row=2)):
        if r[2].value == "buurt":
            r[4].value = 10 + i % 30
    wb.save(tmp_path / "schuldhulp_ingevuld.xlsx")
    rc, out, err = run(["controleer", str(tmp_path / "schuldhulp_ingevuld.xlsx")], capsys)
    assert rc == 0 and "goedgekeurd" in out[0], (out, err)


def test_controleer_reports_every_bad_line_without_building(good, capsys):
    bad = good.raw.parent / "schuldhulp_fout.csv"
    bad.write_bytes((GOOD + "BU06429999;X;2022;12\r\nBU06420101;X;2021;veel\r\n").encode("cp1252"))
    before = tree_hash(good)
    rc, out, err = run(["controleer", str(bad), "--indicator", "schuldhulp_huishoudens"], capsys)
    assert rc == 2 and err[-1].startswith("fout: ") and NEXT in err[-1]
    report = (good.outputs / "controle" / "controle_schuldhulp_fout_schuldhulp_huishoudens.txt").read_text()
    assert "AFGEKEURD" in report and NEXT in report and f"regel {len(GOOD.splitlines()) + 2}" in report
    assert "<5: 30" in report and "Niet gepubliceerd (aantal onder 10" in report
    after = {k: v for k, v in tree_hash(good).items() if "/controle/" not in k}
    assert after == before  # only the report was written


# --- Leefbaarometer 3.0 as published -----------------------------------------------------------


@pytest.mark.parametrize("build", ["partner_build", "bare_build"], ids=["utf-8", "utf-16"])
def test_leefbaarometer3_as_published_by_content(request, build):
    paths, err = request.getfixturevalue(build)[0], request.getfixturevalue(build)[-1]
    assert any("1 gebiedscode(s) van GM0642 passen niet" in ln for ln in err), err
    ind = pd.read_parquet(paths.indicators).set_index(["region_code", "year", "indicator"])
    assert ind.loc[("BU06420101", 2022, "lbm_score"), "origin"] == "local"
    assert ("BU06420102", 2022, "lbm_score") not in ind.index  # empty cell: missing, no synthetic filler
    assert ind.loc[("BU06420102", 2022, "lbm_fysiek"), "value"] == pytest.approx(0.01)


@pytest.mark.parametrize(
    "body,needles",
    [
        ("bu_code;jaar;lbm\nBU06420101;2022;4,1\nBU06420102;1899;4,1\n", ["regel 3", "'1899'"]),
        ("bu_code;jaar;lbm;fys\nBU06420101;2022;4,1;0,1\nBU06420102;2022;4,0;0,\n", ["regel 3", "'0,'"]),
    ],
    ids=["year_of_the_bad_row", "truncated_decimal"],
)
def test_leefbaarometer3_bad_row_is_named(good, capsys, body, needles):
    (good.local / "lbm.csv").write_text(body)
    before = tree_hash(good)
    rc, _, err = run(["build", "--no-cache"], capsys)
    assert rc == 2 and len(err) == 1 and "lbm.csv" in err[0], err
    for n in needles:
        assert n in err[0], err[0]
    assert tree_hash(good) == before


# --- the sheets: a partner indicator appears, a small count never does ---------------------------


def _csv_rows(html: str) -> list[list[str]]:
    import re
    import urllib.parse

    rows = []
    for m in re.finditer(r'href="data:text/csv;charset=utf-8,([^"]+)"', html):
        text = urllib.parse.unquote(m.group(1).replace("&amp;", "&")).lstrip("\ufeff")
        rows += [ln.split(";") for ln in text.splitlines()[1:]]
    return rows


def test_partner_indicator_on_every_sheet_and_small_counts_never_on_a_page_or_csv(partner_build):
    from analysis.factsheets.context import load_context
    from analysis.factsheets.sheet import Sheet

    paths, ind, sup, _, _ = partner_build
    ctx = load_context(paths)
    label = "Huishoudens in schuldhulpverlening"
    hidden = sup[(sup["indicator"] == "schuldhulp_huishoudens") & (sup["region_code"] == "BU06420102")]
    assert 2023 in set(hidden["year"])  # 4 households in 2023 (line 5 of the delivery)
    for code in ("BU06420102", "BU06420108", "WK064204", "FG08", "GM0642"):
        html = Sheet(ctx, code).render_all()
        assert label in html, code  # on the buurt, wijk, focus-area and gemeente sheets
        rows = [r for r in _csv_rows(html) if r[0] == label]
        assert rows, code
        for r in rows:  # a number here is always >= the threshold; otherwise what the page says
            waarde = r[5]
            assert waarde in {"< 10", "geheim", "< 5"} or float(waarde.replace(",", ".")) >= 10, (code, r)
        if code == "BU06420102":
            assert [r[5] for r in rows if r[2] == code] == ["< 10"]
            assert "&lt; 10" in html
        if code == "BU06420108":
            assert [r[5] for r in rows if r[2] == code] == [
                "21"
            ]  # the published count, positive control (rounded as shown)
            assert SUPPLIER in html  # the supplier is the source on the page
        if code == "GM0642":
            assert [r[5] for r in rows if r[2] == code] == ["541"]  # the partner's own total, 2023


def test_delivery_file_name_matches_the_glob_in_any_case(partner_build):
    paths, ind, _, _, err = partner_build
    assert (paths.local / "SCHULDHULP_2023.CSV").exists() and not (
        paths.local / "schuldhulp_2023.csv"
    ).exists()
    assert not any("schuldhulp" in ln.lower() for ln in err if ln.startswith("let op")), err
    assert "schuldhulp_huishoudens" in set(ind["indicator"])
