"""Goal catalogue, forecasts and target arithmetic."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.errors import InputError
from analysis.goals.calibration import calibrate, conformal_quantile, fit_growth_law
from analysis.goals.catalog import Doel, load_catalog
from analysis.goals.evaluate import PanelPace, evaluate
from analysis.goals.forecast import (
    POINT_MODELS,
    TREND_LABEL,
    backtest,
    observed_pace,
    observed_pace_pct,
    p_band,
    point_forecast,
    required_pace,
    required_pace_pct,
    status_of,
    target_value,
)
from analysis.goals.panel import load_panel, panel_backtest, panel_specs
from analysis.goals.validation import wilson

GOALS, RAW = load_catalog()
FCFG, SCFG = RAW["forecast"], RAW["status"]


def test_catalogue_covers_every_programme_goal():
    from analysis.config import RAW_DIR

    seed = (
        RAW_DIR / "programma" / "lokaal_programma_veerkrachtige_buurten_zwijndrecht_2024-2040.txt"
    ).read_text(encoding="utf-8")
    # every bullet under "Doelstellingen waaraan we werken" appears verbatim in the catalogue
    bullets, inside = [], False
    for line in seed.splitlines():
        if line.startswith("Doelstellingen waaraan we werken"):
            inside = True
        elif line.startswith(("Pijler ", "3.4 ")):
            inside = False
        elif inside and line.startswith("- "):
            bullets.append(line[2:].rstrip(";.").strip())
    assert len(bullets) == 56
    texts = {g.tekst.rstrip(";.").strip() for g in GOALS}
    missing = [b for b in bullets if b not in texts]
    assert not missing, missing
    assert {g.pijler for g in GOALS} == set(range(1, 8))


def test_catalogue_validation_names_the_problem(tmp_path):
    base = {
        "pijlers": {1: "x"},
        "doelen": [
            {
                "id": "X1",
                "pijler": 1,
                "tekst": "t",
                "meetbaar": True,
                "indicator": "ses_woa",
                "geografie": ["gemeente"],
                "basisjaar": 2015,
                "doeljaar": 2040,
                "doeltype": "pariteit",
                "richting": "hoger_beter",
            }
        ],
    }
    p = tmp_path / "d.yaml"
    bad = yaml.safe_load(yaml.safe_dump(base))
    bad["doelen"][0]["indicator"] = "geluk"
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="X1: sleutel 'indicator': onbekende indicator 'geluk'"):
        load_catalog(p)
    bad = yaml.safe_load(yaml.safe_dump(base))
    bad["doelen"][0]["basisjaar"] = 2045
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="X1: onmogelijk basisjaar 2045"):
        load_catalog(p)
    bad = yaml.safe_load(yaml.safe_dump(base))
    bad["doelen"][0]["meetbaar"] = False
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="reden"):
        load_catalog(p)


# --- panel evidence (real bundled series) ----------------------------------------------------------


@pytest.fixture(scope="module")
def panel():
    """Backtest rows, calibration and model ranking on the real bundled panels (as `veerkracht goals`)."""
    from analysis.config import SNAPSHOT_DIR
    from analysis.goals.run import model_ranking

    data = load_panel(SNAPSHOT_DIR, panel_specs(FCFG))
    detail = panel_backtest(data, POINT_MODELS, int(FCFG["min_train"]))
    cal = calibrate(detail, POINT_MODELS, tuple(FCFG["groeiwet_b"]))
    ranking = model_ranking(detail, FCFG["candidates"])["model"].tolist()
    pace = PanelPace(-0.8, 2.2, -0.2, 0.9, 8, "test")
    return detail, cal, ranking, pace


def _goal(doeltype="relatief", richting="lager_beter", doelwaarde=-0.5, basisjaar=2015, doeljaar=2030):
    return Doel(
        id="T",
        pijler=2,
        tekst="t",
        meetbaar=True,
        indicator="hh_sociaal_minimum",
        geografie=("gemeente",),
        basisjaar=basisjaar,
        doeljaar=doeljaar,
        doeltype=doeltype,
        doelwaarde=doelwaarde,
        richting=richting,
    )


def _series(years, values, provisional=None):
    return pd.DataFrame(
        {
            "year": years,
            "value": values,
            "provisional": provisional or [False] * len(years),
            "origin": "snapshot",
            "source_table": "T",
        }
    )


def _eval(goal, s, panel, ranking=None, fcfg=None):
    _, cal, rank, pace = panel
    return evaluate(goal, "X", s, fcfg or FCFG, SCFG, cal, ranking or rank, pace)


def test_backtest_has_no_look_ahead():
    rng = np.random.default_rng(5)
    years = np.arange(2011, 2023)
    y = 50 + np.cumsum(rng.normal(0.5, 2, 12))
    before = backtest(years, y)
    y2 = y.copy()
    y2[-1] += 1000  # change only the last (future) value
    after = backtest(years, y2)
    past = before["target_year"] < 2022
    cols = ["model", "origin", "h", "forecast", "scale", "mase_scale", "e", "lo80", "hi95"]
    pd.testing.assert_frame_equal(before.loc[past, cols], after.loc[past, cols])
    # ...and the rows that target the changed year do see it
    assert not np.allclose(before.loc[~past, "actual"], after.loc[~past, "actual"])
    assert set(before["model"]) == set(POINT_MODELS)


def test_benchmark_t_intervals_hand_checked():
    from analysis.goals.forecast import benchmark_interval

    years, y = np.arange(2011, 2016), np.array([10.0, 12, 11, 14, 15])  # diffs 2, -1, 3, 1
    lo, hi = benchmark_interval(years, y, [2016, 2017], "naief", 0.2)
    sigma = np.sqrt(np.mean(np.array([2, -1, 3, 1]) ** 2))
    from scipy import stats

    q = stats.t.ppf(0.9, 4)
    assert hi[1] - 15 == pytest.approx(q * sigma * np.sqrt(2))
    lo, hi = benchmark_interval(years, y, [2016], "drift", 0.05)
    mid = 15 + 5 / 4
    sd = np.std([2, -1, 3, 1], ddof=1) * np.sqrt(1 * (1 + 1 / 4))
    assert (lo[0] + hi[0]) / 2 == pytest.approx(mid)
    assert hi[0] - mid == pytest.approx(stats.t.ppf(0.975, 3) * sd)


def test_conformal_rank_rule_and_growth_law():
    e = np.arange(1.0, 20.0)  # n = 19
    assert conformal_quantile(e, 0.2) == 16.0  # ceil(20 * 0.8) = 16th smallest
    assert conformal_quantile(e, 0.05) == 19.0  # ceil(20 * 0.95) = 19th
    assert conformal_quantile(e[:10], 0.05) == np.inf  # rank 11 of 10: not enough data
    h = np.arange(1, 7)
    a, b = fit_growth_law(h, 2.0 * h**0.7, b_bounds=(0.5, 1.0))
    assert a == pytest.approx(2.0, rel=1e-3) and b == pytest.approx(0.7, abs=1e-3)
    _, b = fit_growth_law(h, 2.0 * h**0.2, b_bounds=(0.5, 1.0))  # flatter: clipped to the bound
    assert b == pytest.approx(0.5, abs=1e-3)
    _, b = fit_growth_law(h, 2.0 * h**-0.3)  # the default bounds [0, 0.5]: never shrinking
    assert b == pytest.approx(0.0, abs=1e-3)
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)


def _random_walks(rng, n_series, length):
    out = []
    for i in range(n_series):
        sigma = rng.uniform(0.5, 5)  # different scales: the per-series scaling must absorb them
        drift = rng.uniform(-1, 1) * sigma
        y = 100 + np.cumsum(drift + sigma * rng.standard_normal(length))
        out.append(backtest(np.arange(2000, 2000 + length), y, models=("naief", "drift"), series_id=str(i)))
    return pd.concat(out, ignore_index=True).assign(dataset="sim")


@pytest.fixture(scope="module")
def walks():
    rng = np.random.default_rng(20240)
    return _random_walks(rng, 300, 15), _random_walks(rng, 300, 15)


@pytest.mark.parametrize("model", ["naief", "drift"])
def test_planted_random_walk_with_drift_80pct_coverage_at_h_1_5_9(model, walks):
    train, test = walks
    cal = calibrate(train, (model,))
    assert cal.h_obs[model] >= 9  # h = 10 rests on 2 target years only: not observed
    for h in (1, 5, 9):
        t = test[(test["model"] == model) & (test["h"] == h)].dropna(subset=["e"])
        q, extrapolated = cal.quantile(model, h, 0.2)
        cover = float((t["e"].abs() <= q).mean())
        # errors of one series at two origins are correlated: the band allows for ~300 effective cases
        assert not extrapolated and len(t) >= 300
        assert 0.72 <= cover <= 0.88, (h, cover, len(t))


def test_planted_random_walk_extrapolated_beyond_observed_horizons_stays_near_nominal(walks):
    """Calibrate on h <= 4 only; the growth law must carry the 80% coverage out to h = 10."""
    train, test = walks
    cal = calibrate(train[train["h"] <= 4], ("naief",))
    q, extrapolated = cal.quantile("naief", 10, 0.2)
    t = test[(test["model"] == "naief") & (test["h"] == 10)].dropna(subset=["e"])
    assert extrapolated
    assert 0.65 <= float((t["e"].abs() <= q).mean()) <= 0.95


def test_log_model_intervals_finite_and_parity_never_gets_a_log_model(panel):
    # steep fall of a count: the log-linear model applies (ranking forces it first)
    s = _series(range(2011, 2021), 1000 * 0.8 ** np.arange(10) * (1 + 0.01 * np.tile([1, -1], 5)))
    row, fc = _eval(_goal(doeljaar=2040), s, panel, ranking=["loglineair", "naief"])
    assert row["model"] == "loglineair"
    pr = fc[fc["soort"] == "prognose"]
    assert np.isfinite(pr[["waarde", "lo80", "hi80", "lo95", "hi95"]].to_numpy()).all()
    assert (pr["lo95"] >= 0).all() and 0 < row["p_gehaald"] < 1
    # parity: a log model on a gap is refused, in the forecast and in the choice
    with pytest.raises(ValueError, match="parity gap"):
        point_forecast([2020, 2021, 2022], [3.0, 2.0, 1.0], [2023], "loglineair", gap=True)
    gap = _series(range(2013, 2025), 10 * 0.85 ** np.arange(12))  # positive gap, log would "fit"
    row, _ = _eval(
        _goal("pariteit", doelwaarde=None, basisjaar=2024, doeljaar=2040),
        gap,
        panel,
        ranking=["loglineair", "lineair", "naief"],
    )
    assert row["model"] != "loglineair" and 0 < row["p_gehaald"] < 1
    assert "loglineair" not in set(backtest(gap["year"], gap["value"], gap=True)["model"])


def test_observed_pace_is_robust_not_an_endpoint_slope():
    years = np.arange(2011, 2021)
    y = 100 + 1.0 * (years - 2011)
    y[-1] += 20  # one odd last year (e.g. a method break)
    endpoint = (y[-1] - y[0]) / 9
    assert endpoint == pytest.approx(3.222, abs=1e-3)
    assert observed_pace(years, y) == pytest.approx(1.0, abs=1e-9)
    # non-linear: flat, then falling; Theil-Sen is the median pairwise slope, not first-to-last
    curved = np.array([50, 50, 50, 50, 50, 50, 49, 47, 44, 40.0])
    assert observed_pace(years, curved) != pytest.approx((40 - 50) / 9)
    assert observed_pace(years, curved) == pytest.approx(
        float(np.median([(curved[j] - curved[i]) / (j - i) for i in range(10) for j in range(i + 1, 10)]))
    )
    # compound %: 3% a year with one outlier year stays 3%
    g = 100 * 1.03 ** np.arange(10)
    g[0] *= 0.8
    assert observed_pace_pct(years, g) == pytest.approx(3.0, abs=1e-9)
    # from 4975 in 2020 to 1457.7 in 2040: -5.95% a year
    assert required_pace_pct(4975, 2020, 1457.7, 2040) == pytest.approx(-5.95, abs=0.005)


def test_target_arithmetic_and_bands_hand_checked():
    assert target_value("relatief", -0.70, 4859) == pytest.approx(1457.7)
    assert target_value("absoluut", 75, None) == 75
    assert target_value("pariteit", None, None) == 0.0
    assert target_value("richting", None, 4.1) == 4.1
    assert required_pace(4975, 2020, 1457.7, 2040) == pytest.approx(-175.865)
    assert status_of(0.8, 0.7, 0.3) == "op koers"
    assert status_of(0.5, 0.7, 0.3) == "risico"
    assert status_of(0.1, 0.7, 0.3) == "niet op koers"
    assert status_of(None, 0.7, 0.3) == "onvoldoende data"
    assert [p_band(p) for p in (0.001, 0.05, 0.29, 0.3, 0.69, 0.7, 0.99)] == [
        "< 5%",
        "5–30%",
        "5–30%",
        "30–70%",
        "30–70%",
        "> 70%",
        "> 70%",
    ]


def test_interval_is_the_calibration_applied(panel):
    """The interval is point +/- q_h * scale with q_h from the calibration passed in: a calibration
    that is computed but not applied fails here."""
    detail, cal, ranking, pace = panel
    s = _series(range(2011, 2021), [4825, 4875, 4803, 4843, 4859, 4721, 4871, 4988, 5007, 4975])
    row, _ = evaluate(_goal(doeljaar=2023), "X", s, FCFG, SCFG, cal, ranking, pace)
    q80, ext = cal.quantile(row["model"], 3, 0.2)
    assert not ext and row["h_doeljaar"] == 3 and row["interval_soort"] == "gekalibreerd"
    assert row["hi80"] - row["lo80"] == pytest.approx(2 * q80 * row["schaal"])
    wide = calibrate(detail.assign(e=detail["e"] * 2), POINT_MODELS, tuple(FCFG["groeiwet_b"]))
    row2, _ = evaluate(_goal(doeljaar=2023), "X", s, FCFG, SCFG, wide, ranking, pace)
    assert row2["hi80"] - row2["lo80"] == pytest.approx(2 * (row["hi80"] - row["lo80"]))
    # beyond the observed horizons: the growth law, labelled as extrapolation
    row3, fc = evaluate(_goal(doeljaar=2040), "X", s, FCFG, SCFG, cal, ranking, pace)
    q, ext = cal.quantile(row3["model"], 20, 0.2)
    assert ext and row3["interval_soort"] == "extrapolatie"
    assert row3["hi80"] - row3["prognose"] == pytest.approx(q * row3["schaal"])
    assert set(fc.loc[fc["soort"] == "prognose", "interval_soort"]) == {"gekalibreerd", "extrapolatie"}


def test_relative_goal_on_a_falling_series_is_on_course(panel):
    s = _series(range(2013, 2025), np.linspace(100, 60, 12) + np.tile([0.5, -0.5], 6))
    row, fc = _eval(_goal(), s, panel)
    # baseline 2015 ~ 92.3, target -50% ~ 46; the trend reaches ~ 37 by 2030. The panel default
    # (naive) would stay at 60: the series' own backtest overrides it by a wide margin.
    assert row["model"] in {"lineair", "drift", "loglineair"} and "meer dan 20% beter" in row["modelkeuze"]
    assert row["status"] == "op koers" and row["p_gehaald"] > 0.7 and row["kans_band"] == "> 70%"
    assert row["kans_betekenis"] == TREND_LABEL
    assert row["benodigd_tempo"] < 0 and row["waargenomen_tempo"] < 0
    assert set(fc["soort"]) == {"waarneming", "prognose"} and fc["year"].max() == 2030


def test_long_horizon_gets_scenarios_and_panel_pace(panel):
    s = _series(range(2011, 2021), [4825, 4875, 4803, 4843, 4859, 4721, 4871, 4988, 5007, 4975])
    row, fc = _eval(_goal(doelwaarde=-0.7, doeljaar=2040), s, panel)
    sc = fc[fc["soort"] == "scenario"]
    assert set(sc["scenario"]) == {"trend_zet_door", "trend_halveert", "beste_in_paneel"}
    # best observed decline in the panel (-0.8%/yr in the fixture) applied for 20 years
    assert row["scenario_beste_in_paneel"] == pytest.approx(4975 * 0.992**20)
    assert row["snelste_paneltempo_pct"] == -0.8 and row["scenarios_gehaald"] == "geen"
    assert row["benodigd_tempo_pct"] == pytest.approx(-5.95, abs=0.01)
    assert row["status"] == "niet op koers" and row["kans_band"] == "< 5%" and 0 < row["p_gehaald"] < 0.05
    # a short horizon (within the observed ones) has no scenarios
    _, fc = _eval(_goal(doelwaarde=-0.7, doeljaar=2023), s, panel)
    assert "scenario" not in set(fc["soort"])


def test_parity_and_absolute_goals(panel):
    gap = _series(range(2015, 2025), np.linspace(5, 0.5, 10) + np.tile([0.1, -0.1], 5))  # closing
    row, _ = _eval(_goal("pariteit", doelwaarde=None, basisjaar=2024), gap, panel)
    assert row["doelwaarde_berekend"] == 0.0 and row["status"] == "op koers"
    flat = _series(range(2015, 2025), [50 + (i % 2) for i in range(10)])
    row, _ = _eval(_goal("absoluut", richting="hoger_beter", doelwaarde=75, basisjaar=2024), flat, panel)
    assert row["status"] == "niet op koers" and row["kans_band"] == "< 5%" and 0 < row["p_gehaald"]


@pytest.mark.parametrize("n", [1, 2])
def test_too_short_series_gives_no_forecast(n, panel):
    row, fc = _eval(_goal(basisjaar=2023), _series(range(2023, 2023 + n), [5.0] * n), panel)
    assert row["status"] == "onvoldoende data" and fc.empty


@pytest.mark.parametrize("n", [3, 4])
def test_short_series_of_3_or_4_get_wide_defined_forecasts(n, panel):
    s = _series(range(2015, 2015 + n), [10, 9.5, 9.2, 8.7][:n])
    row, fc = _eval(_goal(basisjaar=2015), s, panel)
    # baseline 10, target 5 in 2030; the panel default (naive) stays at 9.2 / 8.7 and the series is too
    # short to overrule it. The falling trend is in the interval scale: continued, it would reach the
    # target, so P(met) is neither 0 nor large, and the interval is an extrapolation
    assert row["model"] == "naief" and "te kort" in row["modelkeuze"]
    assert row["status"] == "niet op koers" and row["kans_band"] in ("< 5%", "5–30%")
    assert 0 < row["p_gehaald"] < 0.3
    assert row["interval_soort"] == "extrapolatie" and row["hi95"] - row["lo95"] > 0


def test_series_with_a_gap_constant_series_and_past_target(panel):
    gap = _series([2013, 2014, 2015, 2018, 2019, 2020], [10, 9, 8.5, 7, 6.5, 6])
    row, _ = _eval(_goal(), gap, panel)
    assert row["status"] != "onvoldoende data" and row["model"] in POINT_MODELS
    const = _series(range(2013, 2025), [7.0] * 12)
    row, fc = _eval(_goal(), const, panel)
    # no spread at all: no scale, so no probability (not a floor posing as one)
    assert row["status"] == "onvoldoende data" and np.isnan(row["p_gehaald"])
    assert "zonder spreiding" in row["toelichting_status"]
    assert (fc.loc[fc.soort == "prognose", "waarde"] == 7.0).all()
    below = _series(range(2013, 2025), np.linspace(100, 20, 12))  # already below -50% of 2015
    row, _ = _eval(_goal(), below, panel)
    assert row["status"] == "op koers" and row["kans_band"] == "> 70%"
    row, fc = _eval(_goal(doeljaar=2022), below, panel)  # target year already observed
    assert row["status"] == "op koers" and row["kans_band"] == "waargenomen" and fc.empty


def test_goal_without_data_and_missing_baseline(panel):
    row, fc = _eval(_goal(), _series([], []), panel)
    assert row["status"] == "onvoldoende data" and fc.empty
    row, _ = _eval(_goal(basisjaar=2010), _series(range(2013, 2020), range(7)), panel)
    assert row["status"] == "onvoldoende data" and "basisjaar 2010" in row["toelichting_status"]


def test_provisional_last_year_is_flagged_not_dropped(panel):
    s = _series(range(2013, 2021), np.linspace(10, 8, 8), [False] * 7 + [True])
    row, fc = _eval(_goal(), s, panel)
    assert row["laatste_jaar_voorlopig"] and row["voorlopige_jaren"] == "2020"
    assert row["laatste_waarde"] == pytest.approx(8.0)


def _doc_headline() -> str:
    from analysis.config import PROJ_ROOT

    doc = (PROJ_ROOT / "docs" / "methode_prognoses.md").read_text(encoding="utf-8")
    return doc.split("[//]: # (kopcasus:begin)")[1].split("[//]: # (kopcasus:end)")[0].strip()


@pytest.fixture(scope="module")
def goals_run(analysed):
    """The session's one goals run on the shared build (conftest.analysed): (paths, {"dir": ...})."""
    return analysed, {"dir": analysed.outputs / "goals"}


def test_goals_run_on_built_data_headline_pinned_to_the_doc(goals_run):
    from analysis.goals.run import headline_table

    _, out = goals_run
    d = out["dir"]
    status = pd.read_parquet(d / "status.parquet")
    head = status[(status.doel_id == "P2-03-GEM")].iloc[0]
    assert head["basiswaarde"] == 4859 and head["doelwaarde_berekend"] == pytest.approx(1457.7)
    assert not head["synthetic"] and head["laatste_jaar_voorlopig"]
    # the doc's headline table is exactly what this run produces
    assert headline_table(head.to_dict()) == _doc_headline()
    # the interval in the output is the calibration table applied (model, h = 20, extrapolated)
    kal = pd.read_csv(d / "kalibratie.csv")
    k = kal[(kal.model == head["model"]) & (kal.h == head["h_doeljaar"]) & (kal.alpha == 0.2)].iloc[0]
    assert k["bron"] == "extrapolatie" and head["interval_soort"] == "extrapolatie"
    assert head["hi80"] - head["prognose"] == pytest.approx(k["q"] * head["schaal"])
    assert k["q_p05"] < k["q"] < k["q_p95"]  # bootstrap band by target year
    assert (d / "kopcasus_armoede_gemeente.png").stat().st_size > 10_000
    # no P(met) of exactly 0 or 1 from a model; every long-horizon figure labelled
    modelled = status[status["model"].notna()]
    assert len(modelled) > 50 and ((modelled.p_gehaald > 0) & (modelled.p_gehaald < 1)).all()
    assert (modelled["kans_betekenis"] == TREND_LABEL).all()
    long = modelled[modelled["h_doeljaar"] > FCFG["scenario_na_jaren"]]
    assert (long["interval_soort"] == "extrapolatie").all() and long["scenario_trend_zet_door"].notna().all()
    # benchmarks in every backtest table, all candidates reported
    bt = pd.read_csv(d / "backtest.csv")
    assert set(POINT_MODELS) <= set(bt["model"])
    for ds, g in bt.groupby("dataset"):
        assert g.loc[g.model.isin(["naief", "drift"]), "dekking80_t"].notna().all(), ds
    val = pd.read_csv(d / "validatie.csv")
    assert {"dataset", "doeljaarblok"} == set(val["schema"])
    assert val[["dekking80_wilson_lo", "dekking80_wilson_hi", "msis95_drift_t"]].notna().all().all()
    # real and synthetic counted apart
    import json

    summ = json.loads((d / "samenvatting.json").read_text())
    assert summ["status_echt"] == {"niet op koers": 1}  # offline only the headline has a real series
    assert (
        summ["n_zonder_gegevens"]
        == int(((status.origin.fillna("") == "") & (status.status != "niet meetbaar")).sum())
        > 0
    )
    synth = status[status.synthetic.fillna(False).astype(bool) & (status.status != "niet meetbaar")]
    assert sum(summ["status_synthetisch"].values()) == len(synth) > 0
    assert "status" not in summ


def test_fact_sheet_goal_section_shows_bands_labels_extrapolation_and_pace(goals_run):
    from analysis.factsheets.sheet import Sheet, load_context

    paths, out = goals_run
    status = pd.read_parquet(out["dir"] / "status.parquet")
    head = status[status.doel_id == "P2-03-GEM"].iloc[0]
    sheet = Sheet(load_context(paths), "GM0642")
    html = sheet.doelen()
    assert TREND_LABEL in html and "&lt; 5%" in html and "<em>extrapolatie</em>" in html
    # the pace sentence carries the computed numbers (required vs observed vs fastest in the panel)
    from analysis.factsheets.fmt import nl_number

    for v in (head.benodigd_tempo_pct, head.waargenomen_tempo_pct, head.snelste_paneltempo_pct):
        assert f"{nl_number(v, 2)}% per jaar" in html
    assert "Scenario's voor 2040" in html and "gehaald in scenario: geen" in html
    assert html.count("<figure") == 1  # the headline fan chart
    # the goal table is downloadable, with the band (never a bare probability) and the origin
    import urllib.parse

    href = re.search(r'download="doelen-gm0642.csv" href="data:text/csv;charset=utf-8,([^"]+)"', html)
    csv = urllib.parse.unquote(href.group(1))
    assert "kans_gehaald" in csv and "p_gehaald" not in csv and TREND_LABEL in csv
    assert "P2-03-GEM;Zwijndrecht;niet op koers;echt;< 5%" in csv
    # the summary counts real and synthetic goals apart
    summary = sheet.samenvatting()
    assert "op echte reeksen, waarvan 0 op koers" in summary and "op synthetische reeksen" in summary


def test_forecast_config_errors_name_the_key():
    from analysis.goals.panel import check_forecast_config

    check_forecast_config(FCFG)  # the committed config passes
    for key in ("scenario_na_jaren", "paneel"):
        with pytest.raises(InputError, match=f"sleutel 'forecast.{key}' ontbreekt"):
            check_forecast_config({k: v for k, v in FCFG.items() if k != key})
    with pytest.raises(InputError, match="forecast.candidates"):
        check_forecast_config({**FCFG, "candidates": ["drift", "arima"]})
    with pytest.raises(InputError, match="forecast.groeiwet_b"):
        check_forecast_config({**FCFG, "groeiwet_b": [1.0, 0.5]})
    with pytest.raises(InputError, match="sleutel 'forecast.paneel': een element mist 'bestand'"):
        panel_specs({"paneel": [{"naam": "x", "label": "x", "gebruik": True}]})


def test_bootstrap_resamples_whole_target_years():
    from analysis.goals.calibration import bootstrap_by_target_year

    rng = np.random.default_rng(3)
    rows = []
    for year in range(2011, 2021):
        e = rng.standard_normal(40) * (6 if year == 2016 else 1)  # one common shock year
        rows.append(pd.DataFrame({"model": "naief", "h": 1, "e": e, "target_year": year}))
    bt = pd.concat(rows, ignore_index=True)
    q = calibrate(bt, ("naief",)).quantile("naief", 1, 0.2)[0]
    band = bootstrap_by_target_year(bt, ("naief",), 300, 1, h_max=1).query("alpha == 0.2").iloc[0]
    assert band.q_p05 < q < band.q_p95 and band.q_p95 / band.q_p05 > 1.3  # 2016 drawn or not
    # three target years with identical errors: resampling years cannot vary anything (rows would)
    same = pd.concat([bt[bt.target_year == 2016].assign(target_year=y) for y in (2016, 2017, 2018)])
    band = bootstrap_by_target_year(same, ("naief",), 100, 1, h_max=1).query("alpha == 0.2").iloc[0]
    assert band.q_p05 == band.q_p95
    # one target year is one common shock, not evidence: no observed horizon at all
    assert calibrate(bt[bt.target_year == 2016], ("naief",)).h_obs == {}


# --- issue 23: forecast_series, trend-proof intervals, extrapolation, P(met), fan chart -------------


def _evidence(panel):
    from analysis.goals.series import Evidence

    _, cal, ranking, _ = panel
    return Evidence(cal, tuple(ranking), int(FCFG["min_backtest_points"]), float(FCFG["eigen_keuze_marge"]))


HEADLINE_VALUES = [4825, 4875, 4803, 4843, 4859, 4721, 4871, 4988, 5007, 4975]


def test_forecast_series_is_exactly_what_every_goal_gets(panel):
    from analysis.goals import forecast_series

    s = _series(range(2011, 2021), HEADLINE_VALUES)
    row, fc = _eval(_goal(doelwaarde=-0.7, doeljaar=2040), s, panel)
    out = forecast_series(
        pd.Series(HEADLINE_VALUES, index=range(2011, 2021)), 2040, evidence=_evidence(panel)
    )
    assert list(out.columns) == ["point", "lo80", "hi80", "lo95", "hi95", "kind"]
    assert out.index.name == "year" and out.index.tolist() == list(range(2021, 2041))
    pr = fc[fc["soort"] == "prognose"].set_index("year")
    for mine, theirs in (
        ("point", "waarde"),
        ("lo80", "lo80"),
        ("hi80", "hi80"),
        ("lo95", "lo95"),
        ("hi95", "hi95"),
    ):
        np.testing.assert_allclose(out[mine].to_numpy(), pr[theirs].to_numpy(dtype=float))
    assert out["kind"].tolist() == pr["interval_soort"].tolist()
    assert set(out["kind"]) == {"gekalibreerd", "extrapolatie"} and out.attrs["model"] == row["model"]
    # naive point, drift shown beside it (close on the panel), in the goal's forecast table too
    assert row["model"] == "naief" and out.attrs["drift"] is not None
    drift = fc[fc["soort"] == "vergelijking"]
    np.testing.assert_allclose(drift["waarde"].to_numpy(), out.attrs["drift"].to_numpy())
    assert row["prognose_drift"] == pytest.approx(out.attrs["drift"].iloc[-1])
    # bad input: one clear Dutch error naming the problem
    ok = pd.Series(HEADLINE_VALUES, index=range(2011, 2021))
    for bad, until, msg in (
        (ok, 2020, "until"),
        (ok.iloc[:2], 2030, "minstens 3"),
        (ok.set_axis([2011.5 + i for i in range(10)]), 2030, "hele jaren"),
        (list(ok), 2030, r"pandas\.Series"),
    ):
        with pytest.raises(InputError, match=msg):
            forecast_series(bad, until, evidence=_evidence(panel))


def test_q_h_non_decreasing_and_no_pinch_for_h_1_to_25(panel):
    """On the real panel for every model, and on a planted calibration whose growth law lies below
    its last observed q (without the floor at the last observed q the band pinches at h_obs + 1)."""
    _, cal, _, _ = panel
    for model in cal.h_obs:
        for alpha in (0.2, 0.05):
            q = [cal.quantile(model, h, alpha)[0] for h in range(1, 26)]
            assert all(b >= a for a, b in zip(q, q[1:], strict=False)), (model, alpha, q)
    rng = np.random.default_rng(7)
    rows = []
    for h in range(1, 5):
        e = rng.standard_normal(200) * (4.0 if h == 4 else 1.0)  # a jump at the last observed horizon
        rows.append(
            pd.DataFrame({"model": "naief", "h": h, "e": e, "target_year": 2010 + h + np.arange(200) % 5})
        )
    planted = calibrate(pd.concat(rows, ignore_index=True), ("naief",))
    assert planted.h_obs["naief"] == 4
    a, b = planted.law[("naief", 0.2)]
    assert a * 5**b < planted.quantile("naief", 4, 0.2)[0]  # the law alone would pinch
    q = [planted.quantile("naief", h, 0.2)[0] for h in range(1, 26)]
    assert all(y >= x for x, y in zip(q, q[1:], strict=False)), q
    # and the absolute band of a forecast widens every year
    fc = __import__("analysis.goals", fromlist=["forecast_series"]).forecast_series(
        pd.Series(HEADLINE_VALUES, index=range(2011, 2021)), 2045, evidence=_evidence(panel)
    )
    width = (fc["hi80"] - fc["lo80"]).to_numpy()
    assert (np.diff(width) > 0).all()


def test_trending_series_calibrated_on_a_low_drift_panel_keeps_its_coverage():
    """Planted: a panel of flat random walks (trend/noise ~ 0) calibrates the intervals; series with a
    persistent trend (trend/noise 3, 2014-2020 like the issue's hold-out) must still be covered. With a
    scale that drops the drift (SD around the mean change) and a naive point this fell to ~0.3."""
    from analysis.goals.series import Evidence, forecast_series

    rng = np.random.default_rng(23)
    flat = []
    for i in range(300):
        y = 100 + np.cumsum(rng.uniform(0.5, 5) * rng.standard_normal(12))
        flat.append(backtest(np.arange(2005, 2017), y, models=("naief",), series_id=str(i)))
    flat = pd.concat(flat, ignore_index=True).assign(dataset="flat")
    assert flat.groupby("series")["trend_ruis"].first().median() < 0.5
    ev = Evidence(calibrate(flat, ("naief",)), ("naief",), 8, 0.2)
    hits = {1: [], 2: [], 3: []}
    for _ in range(150):
        s = pd.Series(1000 + np.cumsum(30 + 10 * rng.standard_normal(7)), index=range(2014, 2021))
        for k in (4, 5, 6):
            fc = forecast_series(s.iloc[:k], 2020, evidence=ev)
            for year, r in fc.iterrows():
                hits[year - 2013 - k].append(r.lo80 <= s[year] <= r.hi80)
    cover = {h: float(np.mean(v)) for h, v in hits.items()}
    assert all(c >= 0.72 for c in cover.values()), cover


def test_p_met_hand_computed_mid_range():
    # observed horizon: the symmetrised sample of the panel errors, share meeting the target
    e = np.tile([-5.0, -1.0, -0.5, 0.5, 1.0, 2.0], 4)  # 24 errors over 4 target years
    bt = pd.DataFrame({"model": "naief", "h": 1, "e": e, "target_year": 2015 + np.arange(24) % 4})
    cal = calibrate(bt, ("naief",))
    # symmetrised: -5 -2 -1 -1 -0.5 -0.5 0.5 0.5 1 1 2 5 (x4); target 108 from 100 with scale 10 is
    # z = 0.8: 1, 1, 2, 5 of 12 reach it -> 1/3
    assert cal.prob_met("naief", 1, 100.0, 10.0, 108.0, lower_is_better=False) == pytest.approx(1 / 3)
    # lower is better, target 95 (z = -0.5): -5 -2 -1 -1 -0.5 -0.5 of 12 -> 1/2
    assert cal.prob_met("naief", 1, 100.0, 10.0, 95.0, lower_is_better=True) == pytest.approx(0.5)
    # beyond the observed horizons: the stated t model hits its own interval ends exactly
    q80, ext = cal.quantile("naief", 10, 0.2)
    q95, _ = cal.quantile("naief", 10, 0.05)
    assert ext and (q80, q95) == (2.0, 5.0)  # ranks 20 and 24 of the 24 |e|; ratio 2.5: a t with ~3 df
    assert cal.prob_met("naief", 10, 100.0, 10.0, 100 + q80 * 10, False) == pytest.approx(0.10)
    assert cal.prob_met("naief", 10, 100.0, 10.0, 100 - q95 * 10, True) == pytest.approx(0.025)
    assert cal.prob_met("naief", 10, 100.0, 10.0, 100.0, True) == pytest.approx(0.5)
    # no floor: far beyond the 95% interval the probability keeps falling
    p_far = cal.prob_met("naief", 10, 100.0, 10.0, 100 + 20 * q95 * 10, False)
    assert 0 < p_far < 1 / (2 * len(e) + 2)


def test_p_met_error_sample_is_symmetrised():
    """The sign of a panel series' error says nothing about another series: P(met) for a target x
    above the point (higher is better) equals P(met) for x below it (lower is better)."""
    e = np.array([0.1] * 20 + [5.0] * 5)  # all positive: skewed on purpose
    bt = pd.DataFrame({"model": "naief", "h": 1, "e": e, "target_year": 2015 + np.arange(25) % 5})
    cal = calibrate(bt, ("naief",))
    up = cal.prob_met("naief", 1, 50.0, 1.0, 52.0, lower_is_better=False)
    down = cal.prob_met("naief", 1, 50.0, 1.0, 48.0, lower_is_better=True)
    assert up == pytest.approx(down) == pytest.approx(5 / 25 / 2)


def test_fan_chart_draws_exactly_its_table(panel):
    import matplotlib.pyplot as plt

    from analysis.factsheets.charts import fan_table
    from analysis.goals.figures import fan_chart

    s = _series(range(2011, 2021), HEADLINE_VALUES, [False] * 9 + [True])
    goal = _goal(doelwaarde=-0.7, doeljaar=2040)
    row, fc = _eval(goal, s, panel)
    fig = fan_chart(goal, "X", "Testgebied", row, fc)
    try:
        lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
        table = fan_table(goal, row, fc, "aantal")
        for label, reeks in (
            ("waarneming", "waarneming"),
            (f"prognose ({row['model']})", "prognose"),
            ("ter vergelijking: drift", "ter vergelijking: drift"),
        ):
            t = table[table["reeks"] == reeks]
            assert len(t) > 0, reeks
            np.testing.assert_array_equal(
                np.asarray(lines[label].get_xdata(), float), t["jaar"].to_numpy(float)
            )
            np.testing.assert_allclose(
                np.asarray(lines[label].get_ydata(), float), t["waarde"].to_numpy(float)
            )
        obs = table[table["reeks"] == "waarneming"]
        assert obs["jaar"].tolist() == list(range(2011, 2021))  # the observations in their own years
        prov = lines["voorlopig / methodebreuk"]
        assert list(prov.get_xdata()) == [2020] and list(prov.get_ydata()) == [4975]
    finally:
        plt.close(fig)


# --- the fast paths are the computations they replace, bit for bit ---------------------------------
# (goals runs byte-identical to the pandas/scipy versions; a pandas or scipy upgrade that changes the
# reference shows here, not as a silent difference in outputs/<GM>/goals)


def _bits(v) -> bytes:
    return np.asarray(v, dtype=float).tobytes()


def test_own_mase_and_theil_sen_are_the_reference_bit_for_bit():
    """choose_model's own MASE == the groupby mean over its backtest frame; the Theil-Sen slope ==
    scipy's."""
    from scipy import stats

    from analysis.goals.forecast import _theil_sen_slope, choose_model

    rng = np.random.default_rng(7)
    ranking = ["naief", "drift", "lineair", "loglineair", "naief_drift"]
    for i in range(60):
        n = int(rng.integers(5, 14))
        years = np.sort(rng.choice(np.arange(2000, 2030), n, replace=False))
        y = 100 + np.cumsum(rng.normal(1, 5, n)) * 10.0 ** rng.integers(-3, 4)
        gap = bool(i % 2)
        bt = backtest(years, y, models=[m for m in ranking if not (gap and m == "loglineair")], gap=gap)
        ref = bt.dropna(subset=["abs_scaled"]).groupby("model")["abs_scaled"].mean().to_dict()
        own = choose_model(years, y, ranking, 5, 0.2, gap)[2]
        assert list(own) == list(ref) and all(_bits(own[m]) == _bits(ref[m]) for m in ref)
    for _ in range(200):
        n = int(rng.integers(3, 15))
        x = np.sort(rng.choice(np.arange(2000, 2030), n, replace=False)).astype(float)
        y = rng.normal(0, 1, n) * 10.0 ** rng.integers(-3, 5)
        assert _bits(_theil_sen_slope(y, x)) == _bits(stats.theilslopes(y, x)[0])


def test_validation_means_and_quantiles_are_pandas_bit_for_bit():
    from analysis.goals.calibration import _series_quantile
    from analysis.goals.validation import _mean

    rng = np.random.default_rng(8)
    for i in range(300):
        a = rng.lognormal(0, 2, int(rng.integers(1, 60)))
        if i % 3 == 0:
            a[rng.random(len(a)) < 0.3] = np.nan  # pandas counts them as 0 in the sum, not in n
        assert _bits(_mean(a)) == _bits(pd.Series(a).mean())
        b = a[np.isfinite(a)]
        if len(b):
            for p in (0.05, 0.95):
                assert _bits(_series_quantile(b, p)) == _bits(pd.Series(b).quantile(p))


def test_goal_frame_is_the_concat_of_its_parts(panel):
    """evaluate's forecast frame == pd.concat of one DataFrame per part (types, None vs NaN)."""
    from analysis.goals import evaluate as ev_mod

    parts = []
    real = ev_mod.forecast_frame
    try:
        ev_mod.forecast_frame = lambda p: parts.append(p) or real(p)
        s = _series(range(2011, 2021), HEADLINE_VALUES, [False] * 9 + [True])
        _eval(_goal(doelwaarde=-0.7, doeljaar=2040), s, panel)  # observations, forecast, drift, scenarios
        _eval(_goal(doeljaar=2026), s, panel)  # no scenarios
    finally:
        ev_mod.forecast_frame = real
    assert len(parts) == 2 and {"scenario"} <= {c for p in parts[0] for c in p}
    for p in parts:
        got = real(p)
        ref = pd.concat([pd.DataFrame(x) for x in p], ignore_index=True)
        assert list(got.columns) == list(ref.columns)
        assert [str(t) for t in got.dtypes] == [str(t) for t in ref.dtypes]
        for c in got.columns:
            assert [(type(v), repr(v)) for v in got[c]] == [(type(v), repr(v)) for v in ref[c]], c


def test_source_line_fast_path_is_the_groupby():
    """figures.source_entries without a groupby == with it (order, spans, provisional years);
    categorical keys keep the groupby (their order is the categories')."""
    import analysis.figures as F

    rng = np.random.default_rng(9)
    tables = ["83765NED", "85039NED", "Ä-tabel", "B", "local:x.csv"]
    for i in range(150):
        n = int(rng.integers(1, 25))
        df = pd.DataFrame({
            "source_table": rng.choice(tables, n), "origin": rng.choice(["cbs", "local", "synthetic"], n),
            "year": rng.integers(2005, 2026, n), "provisional": rng.random(n) < 0.3,
        })  # fmt: skip
        if i % 2:
            df = df.astype({"source_table": object})
        fast = F._plain_source_entries(df)
        real = F._plain_source_entries
        try:
            F._plain_source_entries = lambda rows: None
            ref = F.source_entries(df)
        finally:
            F._plain_source_entries = real
        assert fast == ref
    cat = pd.DataFrame({"source_table": pd.Categorical(["b", "a"], ["b", "a"]), "origin": ["cbs"] * 2,
                        "year": [2020, 2021], "provisional": [False, True]})  # fmt: skip
    assert F._plain_source_entries(cat) is None


def test_parity_fast_path_leaves_nullable_or_object_columns_to_the_merge():
    """evaluate._gap_series handles only the schema's plain types (int years, bool flags); a nullable
    year or an object flag column goes to the merge (it raised or changed the types before)."""
    from analysis.goals.evaluate import _gap_series

    def side(year_dtype, prov):
        return pd.DataFrame(
            {
                "year": pd.Series([2020, 2021], dtype=year_dtype),
                "value": [1.0, 2.0],
                "provisional": prov,
                "origin": ["cbs", "cbs"],
                "source_table": ["85984NED", "85984NED"],
            }
        )

    plain = side("int64", [False, True])
    assert _gap_series(plain, plain) is not None  # the usual case stays on the fast path
    assert _gap_series(side("Int64", [False, True]), plain) is None
    assert _gap_series(plain, side("int64", pd.Series([None, True], dtype=object))) is None
