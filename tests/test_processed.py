"""Processed tables: aggregation arithmetic, precedence of origins, schemas and bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import cli
from analysis.errors import InputError
from analysis.processed.aggregate import aggregate
from analysis.processed.build import resolve
from analysis.processed.schemas import indicators_schema, validate
from analysis.records import COLUMNS
from analysis.sources.local import read_leefbaarometer3


def _row(code, ind, value, year=2023, origin="snapshot", unit=""):
    return dict(
        region_code=code,
        level="buurt" if code.startswith("BU") else "wijk",
        year=year,
        indicator=ind,
        value=float(value),
        unit=unit,
        source_table="T",
        origin=origin,
        provisional=False,
    )


@pytest.fixture
def two_buurten() -> pd.DataFrame:
    # hand-checked: A has 100 inwoners / 40 huishoudens, B has 300 / 160
    rows = [
        _row("BU00010001", "inwoners", 100),
        _row("BU00010002", "inwoners", 300),
        _row("BU00010001", "huishoudens", 40),
        _row("BU00010002", "huishoudens", 160),
        _row("BU00010001", "laag_inkomen_pct", 20, origin="synthetic"),
        _row("BU00010002", "laag_inkomen_pct", 5),
        _row("BU00010001", "bijstand_per_1000", 50),
        _row("BU00010002", "bijstand_per_1000", 10),
    ]
    return pd.DataFrame(rows)[COLUMNS]


MEMBERS = pd.DataFrame({"area_code": ["WK000101", "WK000101"], "buurtcode": ["BU00010001", "BU00010002"]})


def test_counts_are_summed_and_rates_weighted(two_buurten):
    out = aggregate(two_buurten, MEMBERS, "wijk").set_index("indicator")
    assert out.loc["inwoners", "value"] == 400
    assert out.loc["huishoudens", "value"] == 200
    # household-weighted: (40*20 + 160*5) / 200 = 8.0 (a plain mean would say 12.5)
    assert out.loc["laag_inkomen_pct", "value"] == pytest.approx(8.0)
    # inhabitant-weighted: (100*50 + 300*10) / 400 = 20.0
    assert out.loc["bijstand_per_1000", "value"] == pytest.approx(20.0)
    # one synthetic input makes the aggregate synthetic
    assert out.loc["laag_inkomen_pct", "origin"] == "synthetic"
    assert out.loc["bijstand_per_1000", "origin"] == "snapshot"
    assert (out["level"] == "wijk").all()


def test_weights_from_nearest_year_when_year_has_none(two_buurten):
    later = two_buurten[two_buurten.indicator == "laag_inkomen_pct"].assign(year=2020)
    out = aggregate(pd.concat([two_buurten, later]), MEMBERS, "wijk")
    v2020 = out.query("year == 2020 and indicator == 'laag_inkomen_pct'")["value"].iloc[0]
    assert v2020 == pytest.approx(8.0)  # 2023 household weights carried to 2020


def test_area_with_a_missing_member_gets_no_value(two_buurten):
    partial = two_buurten[
        ~((two_buurten.region_code == "BU00010002") & (two_buurten.indicator == "bijstand_per_1000"))
    ]
    out = aggregate(partial, MEMBERS, "wijk")
    assert "bijstand_per_1000" not in set(out["indicator"])


def test_resolve_prefers_real_over_synthetic_and_direct_over_aggregated():
    a = pd.DataFrame(
        [_row("WK000101", "inwoners", 1, origin="synthetic"), _row("WK000101", "inwoners", 2, origin="cbs")]
    )[COLUMNS]
    assert resolve(a, a.iloc[0:0])["value"].tolist() == [2.0]
    direct = pd.DataFrame([_row("WK000101", "inwoners", 5)])[COLUMNS]
    agg = pd.DataFrame([_row("WK000101", "inwoners", 6)])[COLUMNS]
    assert resolve(direct, agg)["value"].tolist() == [5.0]


def test_schema_rejects_unknown_origin_and_duplicate_rows(two_buurten):
    bad = two_buurten.copy()
    bad.loc[0, "origin"] = "guess"
    with pytest.raises(InputError, match="origin"):
        validate(bad, indicators_schema(), "indicators.parquet")
    with pytest.raises(InputError, match="indicators.parquet"):
        validate(pd.concat([two_buurten, two_buurten.iloc[:1]]), indicators_schema(), "indicators.parquet")


def test_built_tables_pass_schema_and_every_row_has_an_origin(built):
    paths, result = built
    ind = pd.read_parquet(paths.indicators)
    assert len(ind) > 1000 and ind["origin"].notna().all()
    assert set(ind["origin"]) <= {"cbs", "snapshot", "local", "synthetic"}
    validate(ind, indicators_schema(), "indicators.parquet")
    # real snapshot values survive: 2023 buurt inhabitants and the 2024 municipal figure
    v = ind.set_index(["region_code", "year", "indicator"])
    assert v.loc[("BU06420305", 2023, "inwoners"), "value"] == 830
    assert v.loc[("BU06420305", 2023, "inwoners"), "origin"] == "snapshot"
    assert v.loc[("GM0642", 2024, "inwoners"), "value"] == 44874
    assert v.loc[("GM0642", 2015, "lage_welvaart_hh_25_64"), "value"] == 4859
    assert v.loc[("GM0642", 2020, "lage_welvaart_hh_25_64"), "provisional"]
    # municipality 2023 inhabitants aggregated from buurten = 45,030 (PROVENANCE)
    assert v.loc[("GM0642", 2023, "inwoners"), "value"] == 45030
    # focus areas are unions of their buurten
    regions = result.regions.set_index("region_code")
    assert regions.loc["FG01", "inwoners"] == 415 + 420
    assert regions.loc["FG01", "geometry"].area == pytest.approx(
        regions.loc["BU06420605", "geometry"].union(regions.loc["BU06420601", "geometry"]).area
    )
    assert (regions["level"] == "focusgebied").sum() == 16  # FG01-FG15 and FG00 (all together)
    assert (
        regions.loc["FG00", "inwoners"] == regions.loc[[f"FG{i:02d}" for i in range(1, 16)], "inwoners"].sum()
    )
    assert result.synthetic_indicators  # and the CLI says which


def _processed_snapshot(paths):
    return {p.name: p.read_bytes() for p in paths.processed.iterdir()}


def _build_ok(paths):
    assert cli.main(["build", "--no-cache"]) == 0
    return _processed_snapshot(paths)


def test_cli_build_says_which_indicators_are_synthetic(tmp_paths, capsys):
    _build_ok(tmp_paths)
    err = capsys.readouterr().err
    assert "synthetische" in err and "ses_woa" in err


@pytest.mark.parametrize(
    "breakage, message",
    [
        (
            lambda raw: (raw / "local" / "focusgebieden.csv").write_text(
                "focusgebied_code,focusgebied_naam,buurtcode,mapping,toelichting\nFG01,X,BU06429999,exact,\n"
            ),
            "unknown region code",
        ),
        (
            lambda raw: (raw / "local" / "focusgebieden.csv").write_text("a,b\n1,2\n"),
            "focusgebieden.csv: expected column",
        ),
        (
            lambda raw: (raw / "snapshot" / "kwb_2016_wijk" / "wijk_2016_zwijndrecht.csv").write_text(
                "WK_CODE,AANT_INW\nWK064201,5\n"
            ),
            "wijk_2016_zwijndrecht.csv: expected column",
        ),
        (
            lambda raw: (raw / "snapshot" / "kwb_2025_wijkwarm" / "zwijndrecht.json").write_text("{oops"),
            "zwijndrecht.json: not valid JSON",
        ),
        (
            lambda raw: (raw / "local" / "leefbaarometer3_buurt.csv").write_text(
                "bu_code;jaar;lbm\nBU06420101;2022;abc\n"
            ),
            "column 'lbm' has non-numeric",
        ),
        (
            lambda raw: (raw / "local" / "leefbaarometer3_buurt.csv").write_text(
                "bu_code;jaar;lbm\nBU06429999;2022;4,1\n"
            ),
            "unknown region code",
        ),
    ],
)
def test_bad_input_is_one_clear_error_and_keeps_processed(tmp_paths, capsys, breakage, message):
    before = _build_ok(tmp_paths)
    capsys.readouterr()
    breakage(tmp_paths.raw)
    assert cli.main(["build", "--no-cache"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fout:") and message in err[0]
    assert _processed_snapshot(tmp_paths) == before


def test_unknown_municipality_code_is_a_clear_error(tmp_paths, capsys):
    assert cli.main(["--gemeente", "GM9999", "build", "--no-cache"]) == 2
    assert "gemeente GM9999: no buurt polygons held" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        "bu_code;jaar;lbm;fys\nBU06420101;2022;4,25;-0,01\n",
        "BU_CODE,JAAR,LBM,FYS\nBU06420101,2022,4.25,-0.01\n",
    ],
)
def test_leefbaarometer3_accepts_semicolon_comma_and_decimal_comma(tmp_path, text):
    p = tmp_path / "leefbaarometer3.csv"
    p.write_text(text)
    out = read_leefbaarometer3(p).set_index("indicator")["value"]
    assert out["lbm_score"] == pytest.approx(4.25) and out["lbm_fysiek"] == pytest.approx(-0.01)


def test_leefbaarometer3_rejects_other_shapes(tmp_path):
    p = tmp_path / "leefbaarometer3.csv"
    p.write_text("code|year|score\nBU1|2022|4\n")
    with pytest.raises(InputError, match="leefbaarometer3.csv"):
        read_leefbaarometer3(p)


def test_pc4_parser_reads_the_2022_subset():
    from analysis.config import SNAPSHOT_DIR
    from analysis.sources.snapshot import read_pc4

    pc4 = read_pc4(SNAPSHOT_DIR).set_index(["pc4", "indicator"])
    assert pc4.loc[("3331", "ses_woa"), "value"] == pytest.approx(-0.095)
    assert pc4.loc[("3331", "ses_woa"), "provisional"]  # 2022 voorlopig
    assert pc4.loc[("3333", "pc4_laag_inkomen_pct"), "value"] == pytest.approx(44.3)
    assert ("3336", "gem_inkomen_hh") not in pc4.index  # null in the source stays missing


def test_cached_cbs_values_replace_synthetic_ones(tmp_paths):
    from analysis.processed.build import build
    from analysis.sources.cbs import write_cache
    from tests.conftest import kwb_meta

    rows = [
        {"WijkenEnBuurten": "BU06420305", "AantalInwoners_5": 830, "HuishoudensMetEenLaagInkomen_89": 12.5},
        {"WijkenEnBuurten": "GM0642    ", "AantalInwoners_5": 44874, "HuishoudensMetEenLaagInkomen_89": 9.1},
    ]
    write_cache(
        tmp_paths.cbs_cache,
        "85984NED",
        {**kwb_meta(), "TypedDataSet": rows},
        {"registry_key": "kwb", "year": 2024},
    )
    ind = build(tmp_paths).indicators.set_index(["region_code", "year", "indicator"])
    row = ind.loc[("BU06420305", 2024, "laag_inkomen_pct")]
    assert row["value"] == 12.5 and row["origin"] == "cbs" and row["source_table"] == "85984NED"
    assert ind.loc[("GM0642", 2024, "laag_inkomen_pct"), "origin"] == "cbs"  # direct beats aggregate
    assert ind.loc[("BU06420305", 2023, "laag_inkomen_pct"), "origin"] == "synthetic"
