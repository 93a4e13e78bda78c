"""Resilience v2: planted two-axis structure, signal, composition, context, sensitivity, config,
one origin per series, and the national placement on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from analysis.config import CONFIG_DIR
from analysis.errors import InputError
from analysis.records import COLUMNS
from analysis.resilience import index as index_mod
from analysis.resilience.analysis import compute
from analysis.resilience.config import load_config
from analysis.resilience.robustness import sensitivity, validate_against_focus

CFG = load_config()
YEARS = list(range(2020, 2025))
GROUPS = {"LA": 8, "TA": 8, "LB": 8, "TB": 8, "AB": 8, "ED": 4}  # planted groups; the rest is ordinary
A_INDS = {
    "laag_inkomen_pct": (8.0, 3.0),
    "sociaal_minimum_pct": (9.0, 3.5),
    "bijstand_per_1000": (28.0, 14.0),
    "ao_per_1000": (55.0, 12.0),
    "wmo_per_1000": (70.0, 15.0),
    "ses_woa": (0.0, -0.3),
}
B_INDS = {"lbm_score": (4.1, 0.3), "misdrijven_per_1000": (38.0, -10.0)}


def planted_world(n_plain=40, seed=7, extra=None):
    """Buurten with latent a(t) (axis A, higher = more concentration) and b(t) (axis B, higher =
    better). Groups: LA high A level, TA rising A, LB low B level, TB falling B, AB high A and low B,
    ED low B with A close to the level threshold (borderline cases).
    Two wijken; one focus buurt per planted group."""
    rng = np.random.default_rng(seed)
    rng_extra = np.random.default_rng(seed + 1000)  # extra indicators never shift the planted draws
    groups = [g for g, k in GROUPS.items() for _ in range(k)] + ["plain"] * n_plain
    codes = [f"BU0001{i:04d}" for i in range(len(groups))]
    wijk = [f"WK0001{i % 2:02d}" for i in range(len(groups))]
    regions = pd.DataFrame(
        {
            "region_code": ["GM0001", "WK000100", "WK000101", *codes],
            "level": ["gemeente", "wijk", "wijk"] + ["buurt"] * len(codes),
            "name": ["Gem", "W0", "W1", *[f"b{i}" for i in range(len(codes))]],
            "inwoners": [1000.0 * len(codes), 500.0 * len(codes), 500.0 * len(codes)] + [1000.0] * len(codes),
            "wijk_code": [None, None, None, *wijk],
            "focusgebied": [None] * 3 + [None] * len(codes),
        }
    )
    rows = []
    for c, g in zip(codes, groups, strict=True):
        a0, b0 = rng.normal(0, 0.5), rng.normal(0, 0.5)
        rows.append(dict(region_code=c, year=2023, indicator="huishoudens", value=450.0))
        for t, y in enumerate(YEARS):
            a = {"LA": 4.0, "AB": 4.0, "ED": 2.6, "TA": -1.0 + 0.5 * t}.get(g, a0) + rng.normal(0, 0.1)
            b = {"LB": -4.0, "AB": -4.0, "ED": -4.0, "TB": 1.0 - 0.5 * t}.get(g, b0) + rng.normal(0, 0.1)
            for k, (base, slope) in A_INDS.items():
                rows.append(
                    dict(region_code=c, year=y, indicator=k, value=base + slope * a + rng.normal(0, 0.05))
                )
            for k, (base, slope) in B_INDS.items():
                rows.append(
                    dict(region_code=c, year=y, indicator=k, value=base + slope * b + rng.normal(0, 0.05))
                )
            for k, v in (extra or {}).items():
                rows.append(dict(region_code=c, year=y, indicator=k, value=v(rng_extra)))
    ind = pd.DataFrame(rows).assign(
        level="buurt", unit="", source_table="T", origin="synthetic", provisional=False
    )[COLUMNS]
    return ind, regions, pd.Series(groups, index=codes)


@pytest.fixture(scope="module")
def planted():
    ind, regions, groups = planted_world()
    res = compute(ind, regions, CFG, min_inwoners=100)
    return ind, regions, groups, res


def _b(res):
    return res.scores[res.scores["level"] == "buurt"].set_index("region_code")


def test_each_planted_axis_effect_is_recovered_with_the_right_class(planted):
    _, _, groups, res = planted
    s = _b(res).join(groups.rename("group"))
    cases = {  # group: (score column, sign so that higher = more planted)
        "LA": ("A_niveau_gemeente", 1),
        "TA": ("A_trend_gemeente", 1),
        "LB": ("B_niveau_gemeente", -1),
        "TB": ("B_trend_gemeente", -1),
    }
    for g, (col, sign) in cases.items():
        assert roc_auc_score(s["group"] == g, sign * s[col]) >= 0.9, g
    share = lambda g, col, val: (s.loc[s["group"] == g, col] == val).mean()  # noqa: E731
    # 2x2 per axis: level effect without trend, trend effect without level
    assert share("LA", "A_niveauklasse_gemeente", "hoog") >= 0.9
    assert share("LA", "A_trendklasse_gemeente", "stabiel") >= 0.9
    assert share("TA", "A_trendklasse_gemeente", "stijgend") >= 0.9
    assert share("TA", "A_niveauklasse_gemeente", "hoog") == 0
    assert share("LB", "B_niveauklasse_gemeente", "laag") >= 0.9
    assert share("LB", "B_trendklasse_gemeente", "stabiel") >= 0.9
    assert share("TB", "B_trendklasse_gemeente", "dalend") >= 0.9
    assert share("TB", "B_niveauklasse_gemeente", "laag") == 0
    # combined signal: A high and B low -> signaal; A high alone or B low alone -> aandacht
    assert share("AB", "signaal", "signaal") == 1
    assert share("LA", "signaal", "aandacht") >= 0.9
    assert share("LB", "signaal", "aandacht") >= 0.9
    assert share("plain", "signaal", "geen signaal") >= 0.9


def test_flipping_the_trend_sign_breaks_the_trend_class(planted, monkeypatch):
    ind, regions, groups, _ = planted
    orig = index_mod.slope_change
    monkeypatch.setattr("analysis.resilience.index.slope_change", lambda z, years: -orig(z, years))
    s = _b(compute(ind, regions, CFG, min_inwoners=100)).join(groups.rename("group"))
    assert (s.loc[s["group"] == "TA", "A_trendklasse_gemeente"] == "stijgend").mean() == 0


def test_signal_rule_truth_table():
    t = 1.0
    cases = [  # A level, A change, B level, B change -> class
        (1.5, 0.0, 0.0, 0.0, "aandacht"),
        (1.5, 0.6, 0.0, 0.0, "signaal"),
        (1.5, 0.0, -1.2, 0.0, "signaal"),
        (1.5, 0.0, 0.0, -0.6, "signaal"),
        (0.2, 0.6, -1.2, -0.6, "aandacht"),  # no A high: never 'signaal'
        (0.2, 0.0, 0.0, 0.0, "geen signaal"),
        (np.nan, 0.6, -1.2, -0.6, "onvoldoende data"),
        (1.5, np.nan, np.nan, np.nan, "aandacht"),
    ]
    arr = np.array([c[:4] for c in cases], dtype=float).T
    got = index_mod.signal(*arr, t, 0.5)
    assert list(got) == [c[4] for c in cases]


def test_aggregate_shows_its_one_red_buurt_in_the_composition():
    # wijk W0: only ordinary buurten and one AB buurt; every other planted buurt moves to W1
    ind, regions, groups = planted_world(seed=3)
    b = regions["level"] == "buurt"
    w0 = regions["wijk_code"] == "WK000100"
    red = groups.index[groups == "AB"][0]
    keep_w0 = set(groups.index[groups == "plain"]) | {red}
    regions.loc[b & w0 & ~regions["region_code"].isin(keep_w0), "wijk_code"] = "WK000101"
    regions.loc[regions["region_code"] == red, "wijk_code"] = "WK000100"
    res = compute(ind, regions, CFG, min_inwoners=100)
    s = res.scores.set_index("region_code")
    members = regions.loc[regions["wijk_code"] == "WK000100", "region_code"]
    assert set(s.loc[members.drop(members.index[members == red]), "signaal"]) <= {"geen signaal", "aandacht"}
    assert s.loc[red, "signaal"] == "signaal"
    comp = res.composition[res.composition["region_code"] == "WK000100"].set_index("signaal")
    assert comp.loc["signaal", "n_buurten"] == 1
    assert comp.loc["signaal", "inwoners"] == regions.set_index("region_code").loc[red, "inwoners"]
    assert comp["n_buurten"].sum() == len(members)
    assert s.loc["WK000100", "n_buurten_signaal"] == 1 and "1 signaal" in s.loc["WK000100", "samenstelling"]
    # an aggregate gets no buurt-scale class, only composition and its own-level scores
    assert pd.isna(s.loc["WK000100", "signaal"]) and pd.isna(s.loc["GM0001", "signaal"])


def test_context_indicators_do_not_move_the_score():
    noisy = {
        "corporatie_pct": lambda r: r.uniform(0, 95),
        "woz": lambda r: r.uniform(150, 900),
        "pct_65_plus": lambda r: r.uniform(5, 40),
    }
    plain_ind, regions, _ = planted_world(seed=11)
    with_ctx, _, _ = planted_world(seed=11, extra=noisy)
    plain = compute(plain_ind, regions, CFG, 100).scores
    cols = [c for c in plain.columns if c.startswith(("A_", "B_", "signaal"))]
    a = plain[cols]
    ctx = compute(with_ctx, regions, CFG, 100)
    pd.testing.assert_frame_equal(a, ctx.scores[cols])
    assert set(ctx.context["indicator"]) == {"corporatie_pct", "woz", "pct_65_plus"}
    # the same values scored on axis A would move it: the comparison above can fail
    scored = CFG.model_copy(deep=True)
    scored.axes["A"].indicators["corporatie_pct"] = scored.axes["A"].indicators["laag_inkomen_pct"]
    scored = scored.model_copy(update={"context": ["woz", "pct_65_plus"]})
    moved = compute(with_ctx, regions, scored, 100).scores[cols]
    assert not np.allclose(moved["A_niveau_gemeente"].dropna(), a["A_niveau_gemeente"].dropna())


def test_threshold_step_changes_p_signal_but_not_the_planted_robust_cases(planted):
    _, _, groups, res = planted
    no_step = CFG.model_copy(update={"thresholds": CFG.thresholds.model_copy(update={"step": 0.0})})
    a, _ = sensitivity(res, no_step, n_sim=200)
    b, summary = sensitivity(res, CFG, n_sim=200)
    a, b = a.set_index("region_code"), b.set_index("region_code")
    np.testing.assert_allclose(a["p_signaal"], a["p_signaal_vaste_drempels"])
    edge = groups.index[groups == "ED"]  # A close to the level threshold: the step matters
    assert ((a.loc[edge, "p_signaal"] - b.loc[edge, "p_signaal"]).abs() > 0.1).all()
    ab = groups.index[groups == "AB"]
    assert (a.loc[ab, "robuustheid"] == "robuust signaal").all()
    assert (b.loc[ab, "robuustheid"] == "robuust signaal").all()
    plain = groups.index[groups == "plain"]
    assert (b.loc[plain, "robuustheid"] == "robuust geen signaal").mean() >= 0.9
    assert summary["drempels"]["stap"] == CFG.thresholds.step


def test_sensitivity_is_seeded(planted):
    _, _, _, res = planted
    pd.testing.assert_frame_equal(sensitivity(res, CFG, n_sim=30)[0], sensitivity(res, CFG, n_sim=30)[0])


def _with_bounds(ind, code, half_width):
    rows = ind[(ind["indicator"] == "ses_woa")].copy()
    lo = rows.assign(indicator="ses_woa_ondergrens", value=rows["value"] - 0.01)
    hi = rows.assign(indicator="ses_woa_bovengrens", value=rows["value"] + 0.01)
    m = lo["region_code"] == code
    lo.loc[m, "value"] = rows.loc[m, "value"] - half_width
    hi.loc[m, "value"] = rows.loc[m, "value"] + half_width
    return pd.concat([ind, lo, hi], ignore_index=True)


def test_reliability_bounds_can_take_away_robustness(planted):
    ind, regions, groups, _ = planted
    code = groups.index[groups == "AB"][0]
    narrow = sensitivity(compute(_with_bounds(ind, code, 0.01), regions, CFG, 100), CFG, n_sim=100)[0]
    wide = sensitivity(compute(_with_bounds(ind, code, 5.0), regions, CFG, 100), CFG, n_sim=100)[0]
    narrow, wide = narrow.set_index("region_code"), wide.set_index("region_code")
    assert narrow.loc[code, "robuustheid"] == "robuust signaal"
    assert narrow.loc[code, "betrouwbaarheidsgrenzen_gebruikt"]
    assert wide.loc[code, "signaal_gunstigste_grens"] != "signaal"
    assert wide.loc[code, "robuustheid"] == "hangt af van keuzes"
    assert "betrouwbaarheidsgrenzen" in wide.loc[code, "onzekerheid_door"]


def test_national_reference_needs_national_values_and_shifts_the_level(planted):
    ind, regions, groups, res = planted
    assert res.scores["A_niveau_nederland"].isna().all()  # no NL00 rows: no national z, no fallback
    nat = pd.DataFrame(
        [
            dict(region_code="NL00", year=y, indicator=k, value=base - 2 * abs(slope))
            for y in YEARS
            for k, (base, slope) in {**A_INDS, **B_INDS}.items()
        ]
    ).assign(level="land", unit="", source_table="T", origin="synthetic", provisional=False)[COLUMNS]
    s = _b(compute(pd.concat([ind, nat]), regions, CFG, 100))
    ok = s["A_niveau_nederland"].notna()
    assert ok.all()
    assert np.corrcoef(s["A_niveau_gemeente"], s["A_niveau_nederland"])[0, 1] > 0.95
    assert not np.allclose(s["A_niveau_gemeente"], s["A_niveau_nederland"])


def test_reversing_a_direction_flips_its_contribution(planted):
    ind, regions, _, res = planted
    flipped = CFG.model_copy(deep=True)
    spec = flipped.axes["A"].indicators["laag_inkomen_pct"]
    flipped.axes["A"].indicators["laag_inkomen_pct"] = spec.model_copy(update={"direction": -spec.direction})
    a = res.contributions.set_index(["region_code", "indicator"])
    b = compute(ind, regions, flipped, 100).contributions.set_index(["region_code", "indicator"])
    np.testing.assert_allclose(
        a.xs("laag_inkomen_pct", level=1)["z"], -b.xs("laag_inkomen_pct", level=1)["z"]
    )
    np.testing.assert_allclose(a.xs("ses_woa", level=1)["z"], b.xs("ses_woa", level=1)["z"])


def test_rescaling_a_raw_indicator_changes_nothing(planted):
    ind, regions, _, res = planted
    scaled = ind.copy()
    m = scaled["indicator"] == "bijstand_per_1000"
    scaled.loc[m, "value"] = scaled.loc[m, "value"] * 1000 + 7
    cols = ["A_niveau_gemeente", "A_trend_gemeente", "B_niveau_gemeente"]
    pd.testing.assert_frame_equal(res.scores[cols], compute(scaled, regions, CFG, 100).scores[cols])


def test_removing_an_indicator_lowers_coverage_not_behaviour(planted):
    ind, regions, groups, res = planted
    fewer = _b(compute(ind[ind["indicator"] != "bijstand_per_1000"], regions, CFG, 100))
    full = _b(res)
    assert (fewer["A_dekking"] < full["A_dekking"]).all()
    ab = groups.index[groups == "AB"]
    assert (fewer.loc[ab, "signaal"] == "signaal").all()


def test_buurt_with_all_indicators_missing_gets_defined_class(planted):
    ind, regions, groups, _ = planted
    code = groups.index[5]
    s = _b(
        compute(ind[~((ind["region_code"] == code) & (ind["indicator"] != "huishoudens"))], regions, CFG, 100)
    )
    assert np.isnan(s.loc[code, "A_niveau_gemeente"]) and s.loc[code, "A_dekking"] == 0
    assert s.loc[code, "signaal"] == "onvoldoende data"


def test_buurt_below_the_coverage_gate_gets_no_score(planted):
    """One A indicator of six left: coverage above 0 but under min_coverage -> no A score, no signal
    (fails if the coverage gate is removed: a one-indicator level would be published)."""
    ind, regions, groups, _ = planted
    code = groups.index[0]  # a planted high-A buurt: without the gate it would show a clear signal
    keep = ind["indicator"].isin(["huishoudens", "laag_inkomen_pct", *B_INDS])
    s = _b(compute(ind[(ind["region_code"] != code) | keep], regions, CFG, 100))
    assert 0 < s.loc[code, "A_dekking"] < CFG.min_coverage
    assert np.isnan(s.loc[code, "A_niveau_gemeente"]) and np.isnan(s.loc[code, "A_trend_gemeente"])
    assert s.loc[code, "signaal"] == "onvoldoende data"


def test_single_buurt_municipality_is_defined():
    ind, regions, groups = planted_world(n_plain=1)
    keep = groups.index[-1]
    regions = regions[(regions["level"] != "buurt") | (regions["region_code"] == keep)]
    s = _b(compute(ind[ind["region_code"] == keep], regions, CFG, 100))
    assert s.loc[keep, "signaal"] == "onvoldoende data"  # no spread to standardise against


def test_unknown_municipality_code_is_a_clear_error(planted):
    ind, regions, _, _ = planted
    with pytest.raises(InputError, match="GM9999"):
        compute(ind, regions, CFG, 100, gemeente="GM9999")


def test_small_buurten_are_listed_and_counted_in_the_composition(planted):
    ind, regions, groups, _ = planted
    regions = regions.copy()
    code = groups.index[-1]
    regions.loc[regions["region_code"] == code, "inwoners"] = 50
    res = compute(ind, regions, CFG, 100)
    assert (
        res.excluded["region_code"].tolist() == [code] and "minder dan 100" in res.excluded["reden"].iloc[0]
    )
    comp = res.composition[res.composition["region_code"] == "GM0001"].set_index("signaal")
    assert comp.loc["niet gescoord", "n_buurten"] == 1 and comp.loc["niet gescoord", "inwoners"] == 50


def test_validation_lists_exactly_the_disagreements(planted):
    ind, regions, groups, _ = planted
    regions = regions.copy()
    ab, plain = groups.index[groups == "AB"], groups.index[groups == "plain"]
    focus = [*ab[:4], *plain[:2]]  # 4 with a signal, 2 without
    regions.loc[regions["region_code"].isin(focus), "focusgebied"] = "FG01"
    res = compute(ind, regions, CFG, 100)
    metrics, dis = validate_against_focus(res)
    assert metrics["synthetic_inputs"] is True and "methodedemonstratie" in metrics["status"]
    assert metrics["true_positives"] == 4 and metrics["recall_signaal"] == pytest.approx(4 / 6)
    signals = set(_b(res).index[_b(res)["signaal"] == "signaal"])
    assert set(ab) <= signals and not signals & set(plain[:2])
    expected = {
        **{c: "signaal, geen focusbuurt" for c in sorted(signals - set(focus))},
        **{c: "focusbuurt, geen signaal" for c in plain[:2]},
    }
    assert dict(zip(dis["region_code"], dis["soort"], strict=True)) == expected


def test_planted_synthetic_buurten_are_found_in_the_built_data(built):
    paths, result = built
    from analysis.processed.build import load_indicators, load_regions

    res = compute(load_indicators(paths), load_regions(paths), CFG, 200, "GM0642")
    truth = result.truth.set_index("buurtcode")
    b = _b(res).dropna(subset=["A_niveau_gemeente"])
    assert roc_auc_score(truth.loc[b.index, "planted"], b["A_niveau_gemeente"]) >= 0.9
    assert (b.loc[b["signaal"] == "signaal"].index.isin(truth.index[truth["planted"]])).mean() >= 0.9


# --- config validation --------------------------------------------------------------------------


def _cfg_file(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load((CONFIG_DIR / "resilience.yaml").read_text())
    change(raw)
    p = tmp_path / "resilience.yaml"
    p.write_text(yaml.safe_dump(raw))
    return p


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            lambda r: [v.update(weight=0) for v in r["axes"]["B"]["indicators"].values()],
            "axes.B.indicators",
            "de gewichten tellen op tot 0",
        ),
        (
            lambda r: r["axes"]["A"]["indicators"].update(armoede_xyz={"direction": 1, "weight": 1}),
            "(bovenste niveau)",
            "armoede_xyz",
        ),
        (lambda r: r["thresholds"].update(level=-1), "thresholds.level", "moet groter zijn dan 0"),
        (lambda r: r["thresholds"].update(step=2.0), "thresholds", "'step' moet kleiner zijn"),
        (
            lambda r: r["axes"]["A"]["indicators"]["ses_woa"].update(direction=2),
            "axes.A.indicators.ses_woa.direction",
            "",
        ),
        (
            lambda r: r.update(context=["herkomst_buiten_europa_pct"]),
            "(bovenste niveau)",
            "migratieachtergrond",
        ),
    ],
)
def test_bad_config_is_one_clear_error_naming_file_and_key(tmp_path, change, key, words):
    p = _cfg_file(tmp_path, change)
    with pytest.raises(InputError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: sleutel '{key}': ") and words in msg and "\n" not in msg


def test_shipped_config_is_valid_and_scores_no_context_or_migration():
    assert set(CFG.context).isdisjoint(CFG.scored)
    assert {"corporatie_pct", "woz"} <= set(CFG.context)
    assert not any("herkomst" in i for i in CFG.scored + list(CFG.context))
    assert {"ao_per_1000", "wmo_per_1000", "jeugdzorg_pct", "ses_woa_welvaart", "ses_woa_arbeid"} <= set(
        CFG.indicators("A")
    )


# --- one origin per series ----------------------------------------------------------------------


def test_real_series_replaces_synthetic_for_every_year(tmp_paths):
    from analysis.processed.build import build

    code = "BU06420101"
    (tmp_paths.local / "leefbaarometer3_buurt.csv").write_text(
        "bu_code;jaar;lbm;onv\n"
        + "".join(f"{code};{y};4,2{y % 10};-0,0{y % 10}\n" for y in (2016, 2018, 2020))
    )
    ind = build(tmp_paths, use_cache=False).indicators
    for indicator in ("lbm_score", "lbm_veiligheid"):
        s = ind[(ind["region_code"] == code) & (ind["indicator"] == indicator)]
        assert set(s["origin"]) == {"local"}, indicator
        assert sorted(s["year"]) == [2016, 2018, 2020]  # missing real years stay missing
    # dimensions the file does not hold keep their (fully) synthetic series
    soc = ind[(ind["region_code"] == code) & (ind["indicator"] == "lbm_sociaal")]
    assert set(soc["origin"]) == {"synthetic"} and len(soc) == 12
    other = ind[(ind["region_code"] == "BU06420102") & (ind["indicator"] == "lbm_score")]
    assert set(other["origin"]) == {"synthetic"} and len(other) == 12
    # the municipality's real WOZ (2025) is not mixed with synthetic years either
    woz = ind[(ind["region_code"] == "GM0642") & (ind["indicator"] == "woz")]
    assert set(woz["origin"]) == {"snapshot"}


# --- national placement on real data --------------------------------------------------------------


def test_percentile_counts_ties_half_and_uses_weights():
    from analysis.resilience.national import percentile

    v = pd.Series([1.0, 2.0, 2.0, 3.0])
    assert percentile(v, 2.0) == pytest.approx(50.0)
    assert percentile(v, 3.0) == pytest.approx(87.5)
    assert percentile(v, 2.0, pd.Series([0.0, 1.0, 1.0, 2.0])) == pytest.approx(25.0)


def test_zwijndrecht_wijken_are_placed_among_all_nl_wijken_on_real_data():
    from analysis.config import default_paths
    from analysis.resilience.national import kwb_placement, lbm2_placement
    from analysis.sources import snapshot

    snap = default_paths().snapshot
    lv, tr = lbm2_placement(snap, "GM0642")
    assert set(lv["origin"]) == {"snapshot"} and not lv["synthetic"].any()
    wk = lv[(lv["level"] == "wijk") & (lv["maat"] == "klasse (1-9)")]
    assert sorted(wk["region_code"].unique()) == [f"WK0642{i:02d}" for i in range(1, 10)]
    assert sorted(wk["year"].unique()) == [2002, 2008, 2012, 2014, 2016]
    # recompute one percentile straight from the national class table
    cl = snapshot.lbm2_national_classes(snap)
    nl16 = cl[(cl["level"] == "wijk") & (cl["year"] == 2016)]["klasse"]
    row = wk[(wk["region_code"] == "WK064205") & (wk["year"] == 2016)].iloc[0]
    assert row["value"] == 5  # Kort Ambacht, as published (wijk_zwijndrecht.csv)
    expect = 100 * ((nl16 < 5).sum() + 0.5 * (nl16 == 5).sum()) / len(nl16)
    assert row["percentiel_nl"] == pytest.approx(expect) and row["n_nl"] == len(nl16) > 2500
    assert {"verschil klasse", "ontwikkeling score"} <= set(tr["maat"])
    assert not lv["dimensie"].str.fullmatch("bewoners").any()  # population-composition dimension not used
    k = kwb_placement(snap, "GM0642")
    g = k[(k["region_code"] == "GM0642") & (k["year"] == 2017) & (k["indicator"] == "pct_65_plus")].iloc[0]
    assert g["value"] == 22 and 15 < g["nederland"] < 22 and set(k["origin"]) == {"snapshot"}


def test_cli_bad_config_prints_one_fout_line_and_keeps_outputs(tmp_path, tmp_paths, monkeypatch, capsys):
    from analysis import cli
    from analysis.resilience import config as config_mod

    bad_dir = tmp_path / "config"
    bad_dir.mkdir()
    _cfg_file(bad_dir, lambda r: r["thresholds"].update(level=0))  # writes bad_dir/resilience.yaml
    monkeypatch.setattr(config_mod, "CONFIG_DIR", bad_dir)
    earlier = tmp_paths.outputs / "resilience" / "scores.csv"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("vorige uitvoer\n")
    assert cli.main(["resilience"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "fout: config/resilience.yaml: sleutel 'thresholds.level': moet groter zijn dan 0"
    )
    assert earlier.read_text() == "vorige uitvoer\n"
