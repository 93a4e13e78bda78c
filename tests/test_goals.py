"""Goal catalogue, forecasts and target arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.errors import InputError
from analysis.goals.catalog import Doel, load_catalog
from analysis.goals.forecast import (
    backtest,
    calibration_factor,
    fit_forecast,
    observed_pace,
    prob_met,
    required_pace,
    status_of,
    target_value,
)
from analysis.goals.run import evaluate

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
    with pytest.raises(InputError, match="X1: unknown indicator 'geluk'"):
        load_catalog(p)
    bad = yaml.safe_load(yaml.safe_dump(base))
    bad["doelen"][0]["basisjaar"] = 2045
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="X1: impossible basisjaar 2045"):
        load_catalog(p)
    bad = yaml.safe_load(yaml.safe_dump(base))
    bad["doelen"][0]["meetbaar"] = False
    p.write_text(yaml.safe_dump(bad))
    with pytest.raises(InputError, match="reden"):
        load_catalog(p)


@pytest.mark.parametrize("model", ["lineair", "loglineair"])
def test_planted_trend_unbiased_and_80pct_intervals_cover_about_80pct(model):
    rng = np.random.default_rng(11)
    years = np.arange(2011, 2023)
    hits, errors = [], []
    for _ in range(400):
        t = np.arange(14)
        if model == "lineair":  # linear truth, additive noise sd 3
            mu = 100 + 2.0 * t
            y = mu + rng.normal(0, 3.0, 14)
        else:  # log-linear truth (2% a year), multiplicative noise; the forecast is the median
            mu = 100 * np.exp(0.02 * t)
            y = mu * np.exp(rng.normal(0, 0.03, 14))
        f = fit_forecast(years, y[:12], [2023, 2024], model)
        hits.append(f.lo80[1] <= y[13] <= f.hi80[1])
        errors.append(f.mean[1] - mu[13])
    assert 0.74 <= np.mean(hits) <= 0.86  # a band around 80%, over many seeded replications
    assert abs(np.mean(errors)) < 0.6  # unbiased within tolerance (noise sd 3)


def test_target_arithmetic_hand_checked():
    assert target_value("relatief", -0.70, 4859) == pytest.approx(1457.7)
    assert target_value("absoluut", 75, None) == 75
    assert target_value("pariteit", None, None) == 0.0
    assert target_value("richting", None, 4.1) == 4.1
    # from 4975 in 2020 to 1457.7 in 2040: -175.865 per year
    assert required_pace(4975, 2020, 1457.7, 2040) == pytest.approx(-175.865)
    assert observed_pace([2011, 2012, 2013], [10, 12, 14]) == pytest.approx(2.0)
    assert status_of(0.8, 0.7, 0.3) == "op koers"
    assert status_of(0.5, 0.7, 0.3) == "risico"
    assert status_of(0.1, 0.7, 0.3) == "niet op koers"
    assert status_of(None, 0.7, 0.3) == "onvoldoende data"


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


def test_relative_goal_on_a_falling_series_is_on_course():
    s = _series(range(2013, 2025), np.linspace(100, 60, 12) + np.tile([0.5, -0.5], 6))
    row, fc = evaluate(_goal(), "GM0642", s, FCFG, SCFG)
    # baseline 2015 ~ 92.3, target -50% ~ 46; the trend reaches ~ 37 by 2030
    assert row["status"] == "op koers" and row["p_gehaald"] > 0.7
    assert row["benodigd_tempo"] < 0 and row["waargenomen_tempo"] < 0
    assert set(fc["soort"]) == {"waarneming", "prognose"} and fc["year"].max() == 2030


def test_parity_and_absolute_goals():
    gap = _series(range(2015, 2025), np.linspace(5, 0.5, 10))  # gap closing towards 0
    row, _ = evaluate(_goal("pariteit", doelwaarde=None, basisjaar=2024), "FG00", gap, FCFG, SCFG)
    assert row["doelwaarde_berekend"] == 0.0 and row["status"] == "op koers"
    flat = _series(range(2015, 2025), [50 + (i % 2) for i in range(10)])
    row, _ = evaluate(
        _goal("absoluut", richting="hoger_beter", doelwaarde=75, basisjaar=2024), "FG00", flat, FCFG, SCFG
    )
    assert row["status"] == "niet op koers" and row["p_gehaald"] < 0.01


@pytest.mark.parametrize("n", [1, 2])
def test_too_short_series_gives_no_forecast(n):
    row, fc = evaluate(_goal(basisjaar=2023), "X", _series(range(2023, 2023 + n), [5.0] * n), FCFG, SCFG)
    assert row["status"] == "onvoldoende data" and fc.empty


@pytest.mark.parametrize("n", [3, 4])
def test_short_series_of_3_or_4_get_wide_but_defined_forecasts(n):
    row, fc = evaluate(
        _goal(basisjaar=2015), "X", _series(range(2015, 2015 + n), [10, 9.5, 9.2, 8.7][:n]), FCFG, SCFG
    )
    assert row["status"] in {"op koers", "risico", "niet op koers"}
    assert row["hi95"] - row["lo95"] > 0 and "te kort" in row["modelkeuze"]


def test_series_with_a_gap_constant_series_and_past_target():
    gap = _series([2013, 2014, 2015, 2018, 2019, 2020], [10, 9, 8.5, 7, 6.5, 6])
    row, _ = evaluate(_goal(), "X", gap, FCFG, SCFG)
    assert row["status"] != "onvoldoende data" and row["model"] in {"lineair", "loglineair"}
    const = _series(range(2013, 2025), [7.0] * 12)
    row, fc = evaluate(_goal(), "X", const, FCFG, SCFG)
    assert row["status"] == "niet op koers" and row["p_gehaald"] == 0.0
    assert (fc.loc[fc.soort == "prognose", "waarde"] == 7.0).all()
    past = _series(range(2013, 2025), np.linspace(100, 20, 12))  # already below -50% of 2015
    row, _ = evaluate(_goal(), "X", past, FCFG, SCFG)
    assert row["status"] == "op koers"


def test_goal_without_data_and_missing_baseline():
    row, fc = evaluate(_goal(), "X", _series([], []), FCFG, SCFG)
    assert row["status"] == "onvoldoende data" and fc.empty
    row, _ = evaluate(_goal(basisjaar=2010), "X", _series(range(2013, 2020), range(7)), FCFG, SCFG)
    assert row["status"] == "onvoldoende data" and "basisjaar 2010" in row["toelichting_status"]


def test_provisional_last_year_is_flagged_not_dropped():
    s = _series(range(2013, 2021), np.linspace(10, 8, 8), [False] * 7 + [True])
    row, fc = evaluate(_goal(), "X", s, FCFG, SCFG)
    assert row["laatste_jaar_voorlopig"] and row["voorlopige_jaren"] == "2020"
    assert row["laatste_waarde"] == pytest.approx(8.0)


def test_calibration_widens_undercovering_intervals():
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(60):  # a shock after the training window makes plain intervals too narrow
        y = 100 + np.arange(8) * 1.0 + rng.normal(0, 1, 8)
        y[6:] += rng.normal(0, 4, 2)
        rows.append(backtest(np.arange(2011, 2019), y, models=("lineair",)))
    bt = pd.concat(rows)
    k = calibration_factor(bt)
    assert k > 1.2
    f = fit_forecast(np.arange(2011, 2017), np.arange(6.0) + rng.normal(0, 1, 6), [2017], "lineair")
    w = f.widen(k)
    assert (w.hi80 - w.lo80)[0] == pytest.approx(k * (f.hi80 - f.lo80)[0])
    assert prob_met(w, 2017, 100.0, True) == pytest.approx(1.0)


def test_goals_run_on_built_data_has_headline_case(analysed):
    # the session's one goals run on the shared build (conftest.analysed)
    out = {"dir": analysed.outputs / "goals"}
    status = pd.read_parquet(out["dir"] / "status.parquet")
    head = status[(status.doel_id == "P2-03-GEM")].iloc[0]
    assert head["basiswaarde"] == 4859 and head["doelwaarde_berekend"] == pytest.approx(1457.7)
    assert not head["synthetic"] and head["laatste_jaar_voorlopig"]
    assert (out["dir"] / "kopcasus_armoede_gemeente.png").stat().st_size > 10_000
    measurable = status[status.status != "niet meetbaar"]
    assert measurable["status"].isin(["op koers", "risico", "niet op koers", "onvoldoende data"]).all()
    bt = pd.read_csv(out["dir"] / "backtest.csv")
    assert {"lineair", "loglineair", "ets_gedempt"} <= set(bt["model"])
    assert status.loc[status.synthetic.fillna(False).astype(bool), "indicator"].notna().all()
