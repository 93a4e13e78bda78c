"""Resilience index: planted structure, invariants and edge cases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from analysis.errors import InputError
from analysis.records import COLUMNS
from analysis.resilience.analysis import compute, sensitivity, validate_against_focus
from analysis.resilience.index import IndexConfig

CFG = IndexConfig.load()


def small_world(n=8, years=range(2020, 2025), seed=1, drop=()):
    """n buurten with household weights and a few indicators; buurt 0 is clearly worst."""
    rng = np.random.default_rng(seed)
    codes = [f"BU0001{i:04d}" for i in range(n)]
    regions = pd.DataFrame(
        {
            "region_code": ["GM0001", *codes],
            "level": ["gemeente"] + ["buurt"] * n,
            "name": ["Gem", *[f"b{i}" for i in range(n)]],
            "inwoners": [1000.0 * n] + [1000.0] * n,
            "focusgebied": [None, "FG01"] + [None] * (n - 1),
        }
    )
    rows = []
    for i, c in enumerate(codes):
        rows.append(dict(region_code=c, year=2023, indicator="huishoudens", value=400 + 10 * i))
        for y in years:
            bad = 3.0 if i == 0 else rng.normal(0, 0.5)
            vals = {
                "laag_inkomen_pct": 8 + 3 * bad,
                "ses_woa": -0.3 * bad,
                "woz": 300 - 40 * bad,
                "lbm_score": 4.1 - 0.08 * bad,
            }
            for k, v in vals.items():
                if k not in drop:
                    rows.append(dict(region_code=c, year=y, indicator=k, value=v))
    ind = pd.DataFrame(rows).assign(
        level="buurt", unit="", source_table="T", origin="synthetic", provisional=False
    )[COLUMNS]
    return ind, regions


def _scores(ind, regions, cfg=CFG):
    return compute(ind, regions, cfg, min_inwoners=100).scores.set_index("region_code")


def test_planted_vulnerable_buurten_are_found_and_robust(built):
    paths, result = built
    from analysis.processed.build import load_indicators, load_regions

    res = compute(load_indicators(paths), load_regions(paths), CFG, 200, "GM0642")
    truth = result.truth.set_index("buurtcode")
    b = res.scores[res.scores["level"] == "buurt"].dropna(subset=["index"]).set_index("region_code")
    assert roc_auc_score(truth.loc[b.index, "planted"], b["index"]) >= 0.9
    sens, summary = sensitivity(res, CFG, n_sim=200)
    s = sens.set_index("region_code").join(truth)
    flagged_planted = s[s["planted"] & (b["klasse"].reindex(s.index) == "rood")]
    assert len(flagged_planted) >= 8
    assert (flagged_planted["robuustheid"] == "robuust rood").mean() >= 0.8
    assert (s.loc[~s["planted"], "robuustheid"] == "robuust niet rood").mean() >= 0.9
    assert summary["spearman_mediaan"] > 0.9


def test_sensitivity_is_seeded(built):
    paths, _ = built
    from analysis.processed.build import load_indicators, load_regions

    res = compute(load_indicators(paths), load_regions(paths), CFG, 200, "GM0642")
    a, _ = sensitivity(res, CFG, n_sim=50)
    b, _ = sensitivity(res, CFG, n_sim=50)
    pd.testing.assert_frame_equal(a, b)


def test_reversing_a_direction_flips_its_contribution():
    ind, regions = small_world()
    flipped = replace(CFG, directions={**CFG.directions, "woz": -CFG.directions["woz"]})
    a = compute(ind, regions, CFG, 100).contributions.set_index(["region_code", "indicator"])
    b = compute(ind, regions, flipped, 100).contributions.set_index(["region_code", "indicator"])
    np.testing.assert_allclose(a.xs("woz", level=1)["z"], -b.xs("woz", level=1)["z"])
    np.testing.assert_allclose(a.xs("ses_woa", level=1)["z"], b.xs("ses_woa", level=1)["z"])


def test_rescaling_a_raw_indicator_changes_nothing():
    ind, regions = small_world()
    scaled = ind.copy()
    m = scaled["indicator"] == "woz"
    scaled.loc[m, "value"] = scaled.loc[m, "value"] * 1000 + 7  # euros instead of x 1,000
    pd.testing.assert_series_equal(_scores(ind, regions)["index"], _scores(scaled, regions)["index"])


def test_removing_an_indicator_changes_coverage_not_behaviour():
    ind, regions = small_world()
    full = _scores(ind, regions)
    fewer = _scores(*small_world(drop=("lbm_score",)))
    b = fewer["level"] == "buurt"
    assert (fewer.loc[b, "coverage"] < full.loc[b, "coverage"]).all()
    assert fewer.loc[b, "index"].notna().all()
    assert fewer.loc["BU00010000", "klasse"] == "rood"  # the planted worst buurt still flagged


def test_buurt_with_all_indicators_missing_gets_defined_class():
    ind, regions = small_world()
    ind = ind[~((ind["region_code"] == "BU00010003") & (ind["indicator"] != "huishoudens"))]
    s = _scores(ind, regions)
    assert np.isnan(s.loc["BU00010003", "index"])
    assert s.loc["BU00010003", "klasse"] == "onvoldoende data"
    assert s.loc["BU00010003", "coverage"] == 0


def test_single_buurt_municipality_is_defined():
    ind, regions = small_world(n=1)
    s = _scores(ind, regions)
    # one buurt has no spread to standardise against: no score, stated as such
    assert s.loc["BU00010000", "klasse"] == "onvoldoende data"


def test_unknown_municipality_code_is_a_clear_error():
    ind, regions = small_world()
    with pytest.raises(InputError, match="GM9999"):
        compute(ind, regions, CFG, 100, gemeente="GM9999")


def test_small_buurten_are_listed_not_dropped():
    ind, regions = small_world()
    regions.loc[regions["region_code"] == "BU00010005", "inwoners"] = 50
    res = compute(ind, regions, CFG, 100)
    assert res.excluded["region_code"].tolist() == ["BU00010005"]
    assert "minder dan 100" in res.excluded["reden"].iloc[0]


def test_validation_reports_metrics_and_states_input_origin():
    ind, regions = small_world()
    res = compute(ind, regions, CFG, 100)
    metrics, dis = validate_against_focus(res)
    assert metrics["synthetic_inputs"] is True and "methodedemonstratie" in metrics["status"]
    assert metrics["roc_auc"] == 1.0  # the worst buurt is the focus buurt
    assert metrics["recall_rood"] == 1.0
    assert set(dis["soort"]) <= {"rood, geen focusbuurt", "focusbuurt, niet rood"}


def test_national_reference_shifts_scores_but_keeps_the_ranking():
    from scipy.stats import spearmanr

    ind, regions = small_world()
    nat = pd.DataFrame(
        [
            dict(region_code="NL00", year=y, indicator=k, value=v)
            for y in range(2020, 2025)
            for k, v in {"laag_inkomen_pct": 6.0, "ses_woa": 0.1, "woz": 350.0, "lbm_score": 4.2}.items()
        ]
    ).assign(level="land", unit="", source_table="T", origin="synthetic", provisional=False)[COLUMNS]
    ind = pd.concat([ind, nat], ignore_index=True)
    gem = _scores(ind, regions).query("level == 'buurt'")["index"]
    nl = _scores(ind, regions, replace(CFG, reference="nederland")).query("level == 'buurt'")["index"]
    assert spearmanr(gem, nl).statistic == pytest.approx(1.0)
    assert (nl - gem).abs().min() > 0.1  # higher poverty and lower WOZ than NL: all shifted up
    assert (nl > gem).all()
