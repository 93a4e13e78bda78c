"""`forecast_series`: the forecast of one yearly series with calibrated intervals, as every goal gets it.

This is the one function behind every goal forecast of `veerkracht goals`
(:func:`analysis.goals.evaluate.evaluate` calls it) and the one a researcher calls on a series of
their own::

    import pandas as pd
    from analysis.goals import forecast_series

    fc = forecast_series(pd.Series([410, 432, 455, 470, 498], index=range(2016, 2021)), until=2030)

Method and measured coverage: docs/methode_prognoses.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.goals.calibration import Calibration, calibrate
from analysis.goals.forecast import BENCHMARKS, choose_model, interval_scale, point_forecast, trend_noise

COLUMNS = ("point", "lo80", "hi80", "lo95", "hi95", "kind")


@dataclass(frozen=True)
class Evidence:
    """What a forecast needs from the panel: the calibration, the model ranking and the settings."""

    calibration: Calibration
    ranking: tuple[str, ...]
    min_backtest_points: int
    margin: float


@lru_cache(maxsize=1)
def default_evidence() -> Evidence:
    """The calibration on the real bundled panel with the settings of config/doelen.yaml (cached)."""
    from analysis.config import SNAPSHOT_DIR
    from analysis.goals.catalog import load_catalog
    from analysis.goals.panel import check_forecast_config, load_panel, panel_backtest, panel_specs
    from analysis.goals.run import model_ranking

    fcfg = load_catalog()[1]["forecast"]
    check_forecast_config(fcfg)
    models = list(dict.fromkeys([*fcfg["candidates"], *BENCHMARKS]))
    detail = panel_backtest(load_panel(SNAPSHOT_DIR, panel_specs(fcfg)), models, int(fcfg["min_train"]))
    ranking = tuple(model_ranking(detail, fcfg["candidates"])["model"])
    cal = calibrate(detail, models, tuple(float(x) for x in fcfg["groeiwet_b"]))
    return Evidence(cal, ranking, int(fcfg["min_backtest_points"]), float(fcfg["eigen_keuze_marge"]))


def _check(series, until) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise InputError(
            f"forecast_series: 'series' moet een pandas.Series zijn, niet {type(series).__name__}"
        )
    s = pd.to_numeric(series, errors="coerce").dropna()
    try:
        idx = np.asarray(s.index, dtype=float)
    except (TypeError, ValueError):
        raise InputError("forecast_series: de index moet uit jaartallen (gehele getallen) bestaan") from None
    if len(idx) and not np.array_equal(idx, np.round(idx)):
        raise InputError(f"forecast_series: de index moet uit hele jaren bestaan, gevonden: {list(s.index)}")
    s.index = idx.astype(int)
    if s.index.has_duplicates:
        dup = sorted(set(s.index[s.index.duplicated()]))
        raise InputError(f"forecast_series: jaar komt dubbel voor: {dup}")
    s = s.sort_index()
    if len(s) < 3:
        raise InputError(f"forecast_series: minstens 3 waarnemingen nodig, gevonden: {len(s)}")
    if int(until) <= int(s.index[-1]):
        raise InputError(
            f"forecast_series: 'until' ({until}) moet na het laatste jaar ({s.index[-1]}) liggen"
        )
    return s


def forecast_series(
    series: pd.Series, until: int, *, gap: bool = False, evidence: Evidence | None = None
) -> pd.DataFrame:
    """Point forecast and calibrated 80%/95% intervals for every year after the last one up to ``until``.

    ``series``: yearly values indexed by year (int); missing values are dropped, gaps between years
    are allowed. ``gap=True`` marks a parity gap (focus area minus municipality): no log model and no
    floor at 0. ``evidence``: the panel calibration (default: the real bundled panel, see
    :func:`default_evidence`).

    Returns a DataFrame indexed by ``year`` with columns ``point, lo80, hi80, lo95, hi95, kind``;
    ``kind`` is ``gekalibreerd`` (horizon tested on the panel) or ``extrapolatie`` (beyond it).
    ``attrs``: ``model`` and ``modelkeuze`` (which point model and why), ``scale`` (interval scale
    per year), ``trend_ruis`` (trend/noise ratio; above 2 the trend class's calibration), ``drift``
    (the drift forecast per year when it is shown beside a naive point forecast, else None).
    The interval is point +/- q_h * interval_scale(h), never below 0 for a series that
    is never negative.
    """
    s = _check(series, until)
    ev = evidence or default_evidence()
    years, values = s.index.to_numpy(), s.to_numpy(dtype=float)
    model, why, own = choose_model(years, values, list(ev.ranking), ev.min_backtest_points, ev.margin, gap)
    future = np.arange(int(years[-1]) + 1, int(until) + 1)
    h = future - years[-1]
    point = point_forecast(years, values, future, model, gap=gap)
    scale = interval_scale(years, values, h, model)
    r = trend_noise(years, values)
    scale = np.where(np.isfinite(scale), scale, 0.0)
    nonneg = (not gap) and bool((values >= 0).all())
    cols = {"point": point}
    extrap = np.zeros(len(h), bool)
    for alpha, tag in ((0.2, "80"), (0.05, "95")):
        qs = [ev.calibration.quantile(model, int(hh), alpha, r) for hh in h]
        q = np.array([x[0] for x in qs])
        extrap |= np.array([x[1] for x in qs])
        lo, hi = point - q * scale, point + q * scale
        cols[f"lo{tag}"] = np.maximum(lo, 0.0) if nonneg else lo  # counts and rates stay >= 0
        cols[f"hi{tag}"] = hi
    cols["kind"] = np.where(extrap, "extrapolatie", "gekalibreerd")
    out = pd.DataFrame(cols, index=pd.Index(future, name="year"))
    drift = None
    # naive is the point forecast because nothing beats it on the panel; drift is shown beside it
    # where it is close (its own backtest no more than the choice margin worse, or too short to tell)
    if model == "naief" and "drift" in ev.ranking:
        if "drift" not in own or own["drift"] <= (1 + ev.margin) * own.get("naief", np.inf):
            drift = pd.Series(point_forecast(years, values, future, "drift"), index=out.index, name="drift")
    out.attrs = {"model": model, "modelkeuze": why, "scale": scale, "trend_ruis": r, "drift": drift}
    return out
