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


MEMBERS = pd.DataFrame({"area_code": ["WK000101", "WK000101"], "part_code": ["BU00010001", "BU00010002"]})


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


def test_cli_build_says_which_indicators_are_synthetic(tmp_paths, built, capsys, monkeypatch):
    # the session's build of the same raw data stands in for a second full build (test speed): what is
    # tested here is what the CLI writes and says about a build's result
    calls = []

    def same_build(paths, use_cache=True):
        calls.append((paths.processed, use_cache))
        return built[1]

    monkeypatch.setattr("analysis.processed.build.build", same_build)
    assert cli.main(["build", "--no-cache"]) == 0
    assert calls == [(tmp_paths.processed, False)]  # --no-cache reaches the build
    said = capsys.readouterr()
    assert "synthetische" in said.err and "ses_woa" in said.err
    # the build says how many aggregates fell below the coverage gate (and the manifest holds it)
    import json
    import re

    n = json.loads((tmp_paths.processed / "build_manifest.json").read_text())["aggregaten_onder_dekking"]
    assert n > 0 and re.search(rf"build: {n} aggregaten niet geschreven", said.out)
    assert (tmp_paths.processed / "indicators.parquet").exists()


# Bad input through the CLI (one fout: line, exit 2, outputs byte-identical): tests/test_bad_input.py


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
        {
            "WijkenEnBuurten": "NL00      ",
            "AantalInwoners_5": 17942942,
            "HuishoudensMetEenLaagInkomen_89": 7.9,
        },
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
    # one origin per series: the real series replaces the synthetic one for every year (no 2023 filler)
    assert ("BU06420305", 2023, "laag_inkomen_pct") not in ind.index
    assert ind.loc[("BU06420306", 2023, "laag_inkomen_pct"), "origin"] == "synthetic"
    # a Nederland figure CBS publishes itself is used directly (no coverage) instead of the sum over
    # gemeenten, and a real NL00 value for one year removes the synthetic NL00 series of that indicator
    nl = ind.loc["NL00"]
    assert nl.loc[(2024, "inwoners"), "origin"] == "cbs" and pd.isna(nl.loc[(2024, "inwoners"), "coverage"])
    assert (
        nl.loc[(2017, "inwoners"), "origin"] == "snapshot" and nl.loc[(2017, "inwoners"), "coverage"] == 1.0
    )
    li = nl.xs("laag_inkomen_pct", level="indicator")
    assert li["origin"].tolist() == ["cbs"] and li["value"].tolist() == [7.9]


def test_leefbaarometer3_windows_1252_accent_late_in_the_file_and_lowercase_codes(tmp_path):
    """A Dutch Excel export: cp1252, an accent far beyond the first 4 KB, lowercase codes."""
    lines = ["bu_code;jaar;lbm;toelichting"]
    lines += [f"bu0642{i:04d};2022;4,{i % 10};gewoon" for i in range(1000, 1300)]
    lines.append("bu06420305;2022;3,75;Planetenbuurt, café")
    p = tmp_path / "leefbaarometer3.csv"
    p.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    assert p.stat().st_size > 8192
    out = read_leefbaarometer3(p, "GM0642").set_index(["region_code", "indicator"])["value"]
    assert out[("BU06420305", "lbm_score")] == pytest.approx(3.75)
    assert out[("BU06421001", "lbm_score")] == pytest.approx(4.1)
    assert len(out) == 301


def test_leefbaarometer3_identical_duplicate_is_kept_once(tmp_path):
    p = tmp_path / "leefbaarometer3.csv"
    p.write_text("bu_code;jaar;lbm\nBU06420101;2022;4,1\nBU06420101;2022;4,1\n")
    assert len(read_leefbaarometer3(p, "GM0642")) == 1


def test_focus_area_inhabitants_are_counted_once(built):
    """Each buurt in at most one focus area: FG00 equals the sum of the distinct focus buurten."""
    _, result = built
    reg = result.regions.set_index("region_code")
    focus_buurten = reg[(reg["level"] == "buurt") & reg["focusgebied"].notna()]
    assert reg.loc["FG00", "inwoners"] == focus_buurten["inwoners"].sum()
    ind = result.indicators.set_index(["region_code", "year", "indicator"])["value"]
    assert ind[("FG00", 2023, "inwoners")] == focus_buurten["inwoners"].sum()


def test_household_counts_follow_share_times_households(built):
    """hh_sociaal_minimum = sociaal_minimum_pct / 100 x the buurt's latest household count, never
    more households than the buurt has."""
    _, result = built
    ind = result.indicators
    b = ind[ind["level"] == "buurt"]
    hh = b[b.indicator == "huishoudens"].sort_values("year").groupby("region_code")["value"].last()
    share = b[b.indicator == "sociaal_minimum_pct"].set_index(["region_code", "year"])["value"]
    count = b[b.indicator == "hh_sociaal_minimum"].set_index(["region_code", "year"])["value"]
    assert len(count) > 100
    expected = share.loc[count.index] / 100 * count.index.get_level_values(0).map(hh).to_numpy()
    assert count.to_numpy() == pytest.approx(expected.to_numpy())
    assert (count.to_numpy() <= count.index.get_level_values(0).map(hh).to_numpy()).all()
    # the municipal total is the sum over buurten, and far below all households
    g = ind[(ind.region_code == "GM0642") & (ind.indicator.isin(["hh_sociaal_minimum", "huishoudens"]))]
    g = g.pivot_table(index="year", columns="indicator", values="value").dropna()
    assert (g["hh_sociaal_minimum"] < 0.5 * g["huishoudens"]).all()


# --- issue 11: coverage, real Nederland (NL00) and Drechtsteden (DS00) ------------------------------


def _national_csv_rows(name: str) -> list[dict]:
    """A bundled national file read with the standard library only (independent of the build code)."""
    import csv
    import gzip

    from analysis.config import SNAPSHOT_DIR

    with gzip.open(SNAPSHOT_DIR / "national" / name, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_nl00_2024_counts_are_the_sums_over_all_gemeenten_of_the_bundled_file(built):
    _, result = built
    rows = [r for r in _national_csv_rows("kwb_2024_gemeente_wijk_nl.csv.gz") if r["code"].startswith("GM")]
    assert len(rows) == 342
    ind = result.indicators.set_index(["region_code", "year", "indicator"])
    for key, indicator in (("AantalInwoners_5", "inwoners"), ("Woningvoorraad_35", "woningvoorraad")):
        expected = sum(int(r[key]) for r in rows)
        row = ind.loc[("NL00", 2024, indicator)]
        assert row["value"] == expected, indicator
        assert row["origin"] == "snapshot" and row["level"] == "land" and row["coverage"] == 1.0
        assert "85984NED" in row["source_table"]


def _gem(code, year, **values):
    return [
        dict(
            region_code=code,
            level="gemeente",
            year=year,
            indicator=k,
            value=float(v),
            unit="",
            source_table="T",
            origin="snapshot",
            provisional=False,
        )
        for k, v in values.items()
    ]


def test_weighted_share_equals_a_hand_computation_on_two_rows():
    from analysis.processed.aggregate import aggregate

    # A: 1,000 inhabitants in 600 households; B: 3,000 inhabitants in 900 households
    rows = _gem("GM0001", 2017, inwoners=1000, huishoudens=600, pct_65_plus=10, eenpersoons_hh_pct=50)
    rows += _gem("GM0002", 2017, inwoners=3000, huishoudens=900, pct_65_plus=30, eenpersoons_hh_pct=20)
    members = pd.DataFrame({"area_code": "NL00", "part_code": ["GM0001", "GM0002"]})
    out = aggregate(pd.DataFrame(rows), members, "land", part_level="gemeente").set_index("indicator")
    # by inhabitants: (1000*10 + 3000*30) / 4000 = 25.0 (a plain mean would say 20)
    assert out.loc["pct_65_plus", "value"] == pytest.approx(25.0)
    # by households: (600*50 + 900*20) / 1500 = 32.0 (weighting by inhabitants would give 27.5)
    assert out.loc["eenpersoons_hh_pct", "value"] == pytest.approx(32.0)
    assert out.loc["inwoners", "value"] == 4000 and (out["coverage"] == 1.0).all()


def test_nl00_2017_share_is_weighted_by_the_right_denominator(built):
    """NL00 2017 % 65+ (per inhabitant) and % one-person households (per household) recomputed
    from the bundled all-NL gemeente file (land records)."""
    _, result = built
    rows = [r for r in _national_csv_rows("kwb_2017_gemeente_nl.csv.gz") if r["WATER"] == "NEE"]
    inw = [float(r["AANT_INW"]) for r in rows]
    hh = [float(r["AANTAL_HH"]) for r in rows]
    p65 = sum(w * float(r["P_65_EO_JR"]) for w, r in zip(inw, rows, strict=True)) / sum(inw)
    p1 = sum(w * float(r["P_EENP_HH"]) for w, r in zip(hh, rows, strict=True)) / sum(hh)
    ind = result.indicators.set_index(["region_code", "year", "indicator"])["value"]
    assert ind[("NL00", 2017, "pct_65_plus")] == pytest.approx(p65)
    assert ind[("NL00", 2017, "eenpersoons_hh_pct")] == pytest.approx(p1)
    assert ind[("NL00", 2017, "inwoners")] == sum(inw)


def _n_buurten(values: dict[int, float | None], weight: float = 100.0) -> pd.DataFrame:
    """Buurten 1..n with ``weight`` inhabitants each and pct_65_plus per buurt (None = suppressed)."""
    rows = []
    for i, v in values.items():
        code = f"BU0001{i:04d}"
        rows.append(_row(code, "inwoners", weight))
        if v is not None:
            rows.append(_row(code, "pct_65_plus", v))
    return pd.DataFrame(rows)[COLUMNS]


def test_aggregate_below_95_percent_coverage_is_not_written_and_at_95_it_is():
    # 20 equal buurten, one suppressed: coverage 19/20 = 0.95 -> written, with its coverage
    long = _n_buurten({i: (None if i == 1 else 20.0) for i in range(1, 21)})
    members = pd.DataFrame({"area_code": "WK000101", "part_code": long["region_code"].unique()})
    out = aggregate(long, members, "wijk").set_index("indicator")
    assert out.loc["pct_65_plus", "coverage"] == pytest.approx(0.95)
    assert out.loc["pct_65_plus", "value"] == pytest.approx(20.0)
    assert out.loc["inwoners", "coverage"] == 1.0
    # two of 20 suppressed: 0.90 -> not written (and counted by the gate)
    long = _n_buurten({i: (None if i <= 2 else 20.0) for i in range(1, 21)})
    assert "pct_65_plus" not in set(aggregate(long, members, "wijk")["indicator"])
    from analysis.processed.aggregate import aggregate_candidates, coverage_gate

    cands = aggregate_candidates(long, members, "wijk")
    kept, dropped = coverage_gate(cands)
    assert dropped == 1 and cands.set_index("indicator").loc["pct_65_plus", "coverage"] == pytest.approx(0.9)


def test_built_aggregates_carry_coverage_and_direct_figures_none(built):
    _, result = built
    ind = result.indicators
    validate(ind, indicators_schema(built=True), "indicators.parquet")
    agg = ind["source_table"].str.startswith("aggregatie van")
    assert ind.loc[agg, "coverage"].between(0.95, 1.0).all()
    assert ind.loc[~agg, "coverage"].isna().all()
    assert result.dropped_aggregates > 0  # e.g. wijk 07/09 % 65+ 2023 (suppressed small buurten)
    v = ind.set_index(["region_code", "year", "indicator"])
    assert ("WK064207", 2023, "pct_65_plus") not in v.index
    # a 2023 aggregate below full coverage is written with its coverage (one vintage next to the buurt)
    assert 0.95 <= v.loc[("GM0642", 2023, "pct_65_plus"), "coverage"] < 1.0
    # the contract itself refuses a coverage below the gate
    bad = ind.copy()
    bad.loc[bad.index[agg][0], "coverage"] = 0.9
    with pytest.raises(InputError, match="coverage"):
        validate(bad, indicators_schema(built=True), "indicators.parquet")


def test_real_2023_population_profile_for_buurten_wijken_gemeente_and_focus_areas(built):
    _, result = built
    ind = result.indicators
    profile = ["pct_0_15", "pct_15_25", "pct_25_45", "pct_45_65", "pct_65_plus"]  # age groups
    profile += ["eenpersoons_hh_pct", "hh_zonder_kinderen_pct", "hh_met_kinderen_pct"]  # household types
    y = ind[(ind["year"] == 2023) & ind["indicator"].isin(profile)]
    assert (y["origin"] == "snapshot").all()
    for level, at_least in (("buurt", 60), ("wijk", 7), ("gemeente", 1), ("focusgebied", 16)):
        got = y[y["level"] == level].groupby("indicator")["region_code"].nunique()
        assert set(got.index) == set(profile) and (got >= at_least).all(), level
    # the municipality's 2023 % 65+ is the inhabitant-weighted mean of its buurten with a value
    b = ind[(ind["level"] == "buurt") & (ind["year"] == 2023)].pivot_table(
        index="region_code", columns="indicator", values="value"
    )
    b = b[b.index.str.startswith("BU0642")].dropna(subset=["pct_65_plus"])
    expected = (b["pct_65_plus"] * b["inwoners"]).sum() / b["inwoners"].sum()
    got = ind.set_index(["region_code", "year", "indicator"]).loc[("GM0642", 2023, "pct_65_plus")]
    assert got["value"] == pytest.approx(expected) and got["origin"] == "snapshot"


def test_no_series_mixes_real_and_synthetic_and_real_latest_values_stay(built):
    _, result = built
    ind = result.indicators
    kinds = (
        ind.assign(syn=ind["origin"] == "synthetic").groupby(["region_code", "indicator"])["syn"].nunique()
    )
    assert (kinds == 1).all(), kinds[kinds > 1].head().to_dict()
    # NL00: real where we hold real all-NL figures, synthetic only for indicators without them
    nl = ind[ind["region_code"] == "NL00"]
    assert set(nl.loc[nl["indicator"] == "pct_65_plus", "origin"]) == {"snapshot"}
    assert set(nl.loc[nl["indicator"] == "laag_inkomen_pct", "origin"]) == {"synthetic"}
    # a real value for one year only (2025) removes the synthetic series of every other year
    g = ind[(ind["region_code"] == "GM0642") & ind["indicator"].isin(["woz", "corporatie_pct"])]
    assert sorted(zip(g["indicator"], g["year"], g["value"], g["origin"], strict=True)) == [
        ("corporatie_pct", 2025, 36.0, "snapshot"),
        ("woz", 2025, 340.0, "snapshot"),
    ]


def test_ds00_holds_only_real_aggregates_of_the_drechtsteden(built):
    import json

    from analysis.config import REGIO_NAMEN, SNAPSHOT_DIR, settings

    _, result = built
    ds = result.indicators[result.indicators["region_code"] == "DS00"]
    assert REGIO_NAMEN["DS00"] == "Drechtsteden" and REGIO_NAMEN["NL00"] == "Nederland"
    assert len(ds) >= 15
    assert set(ds["origin"]) == {"snapshot"} and set(ds["level"]) == {"regio"}
    assert ds["coverage"].between(0.95, 1.0).all()
    regio = settings()["vergelijking"]["drechtsteden"]
    raw = json.loads(
        (SNAPSHOT_DIR / "kwb_2024_85984NED" / "stripped_filtered_data_2024_drechtsteden.json").read_text()
    )
    v = ds.set_index(["year", "indicator"])["value"]
    assert v[(2024, "inwoners")] == sum(raw[c]["AantalInwoners_5"] for c in regio)
    assert v[(2024, "woningvoorraad")] == sum(raw[c]["Woningvoorraad_35"] for c in regio)
    assert {2016, 2017, 2023, 2024} <= set(ds.loc[ds["indicator"] == "inwoners", "year"])
