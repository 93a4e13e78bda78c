"""The real calibration panel: configuration checks, loading, the panel backtest, and two panel
summaries (a model-based cross-check with common year effects, and the fastest sustained pace)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError
from analysis.goals.forecast import series_scale
from analysis.sources import snapshot

ALPHAS = (0.2, 0.05)


# --- the panel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelSpec:
    naam: str
    bestand: str
    label: str
    gebruik: bool
    reden: str = ""


FORECAST_KEYS = (
    "candidates", "min_backtest_points", "eigen_keuze_marge", "min_train", "groeiwet_b", "h_max",
    "scenario_na_jaren", "tempo_venster", "doeljaarblok", "bootstrap", "paneel",
)  # fmt: skip


def check_forecast_config(fcfg: dict) -> None:
    """Every key the forecasts need, with a sane value, or one clear error naming it."""
    missing = [k for k in FORECAST_KEYS if k not in fcfg]
    if missing:
        raise InputError(f"config/doelen.yaml: sleutel 'forecast.{missing[0]}' ontbreekt")
    from analysis.goals.forecast import POINT_MODELS

    bad = [m for m in fcfg["candidates"] if m not in POINT_MODELS]
    if bad or "naief" not in fcfg["candidates"]:
        raise InputError(
            f"config/doelen.yaml: sleutel 'forecast.candidates': alleen modellen uit {POINT_MODELS}, "
            f"en 'naief' moet erbij zijn (gevonden: {fcfg['candidates']})"
        )
    lo, hi = (float(x) for x in fcfg["groeiwet_b"])
    if not 0 <= lo <= hi:
        raise InputError(
            f"config/doelen.yaml: sleutel 'forecast.groeiwet_b': moet [laag, hoog] zijn met "
            f"0 <= laag <= hoog (gevonden: {fcfg['groeiwet_b']})"
        )
    if int(fcfg["min_train"]) < 3:
        raise InputError(
            f"config/doelen.yaml: sleutel 'forecast.min_train': moet minstens 3 zijn (een schaal vraagt 2 "
            f"verschillen; gevonden: {fcfg['min_train']})"
        )


def panel_specs(fcfg: dict) -> list[PanelSpec]:
    out = []
    for e in fcfg.get("paneel", []):
        try:
            out.append(
                PanelSpec(
                    str(e["naam"]),
                    str(e["bestand"]),
                    str(e["label"]),
                    bool(e["gebruik"]),
                    str(e.get("reden", "")),
                )
            )
        except KeyError as exc:
            raise InputError(
                f"config/doelen.yaml: sleutel 'forecast.paneel': een element mist {exc}"
            ) from exc
    if not any(p.gebruik for p in out):
        raise InputError(
            "config/doelen.yaml: sleutel 'forecast.paneel': geen gegevensset met `gebruik: true`"
        )
    return out


def load_panel(snapshot_dir: Path, specs: list[PanelSpec]) -> pd.DataFrame:
    """Long frame dataset, series, year, value of every used real panel (published values only)."""
    frames = []
    for spec in specs:
        if not spec.gebruik:
            continue
        ts = snapshot.read_timeseries(snapshot_dir, spec.bestand).dropna(subset=["value"])
        region = ts["region_code"].fillna(ts["region_name"]).astype(str)
        several = ts["indicator"].nunique() > 1
        sid = region + (" | " + ts["indicator"].astype(str) if several else "")
        frames.append(
            pd.DataFrame({"dataset": spec.naam, "series": sid, "year": ts["year"], "value": ts["value"]})
        )
    return pd.concat(frames, ignore_index=True).sort_values(["dataset", "series", "year"])


def panel_backtest(panel: pd.DataFrame, models, min_train: int) -> pd.DataFrame:
    """:func:`backtest` of every panel series, with its data set; one frame built at once (the
    concatenation of one backtest frame per series, ``dataset`` last)."""
    from analysis.goals.forecast import BACKTEST_COLUMNS, _backtest_cases

    parts: dict[str, list] = {c: [] for c in (*BACKTEST_COLUMNS, "dataset")}
    for (ds, sid), g in panel.groupby(["dataset", "series"], sort=True):
        years, values = g["year"].to_numpy(), g["value"].to_numpy()
        for cols in _backtest_cases(years, values, models, min_train, None, False, True):
            n = len(cols["actual"])
            cols |= {"series": [sid] * n, "model": [cols["model"]] * n, "dataset": [ds] * n}
            for c, v in parts.items():
                v.append(cols[c])
    return pd.DataFrame({c: np.concatenate(v) for c, v in parts.items()})


# --- model-based cross-check ---------------------------------------------------------------------


def mixedlm_crosscheck(panel: pd.DataFrame, h_max: int) -> pd.DataFrame:
    """Panel random walk with common year effects (statsmodels MixedLM), as a cross-check.

    Scaled yearly differences d_it / s_i = mu + u_t + eps_it with a random intercept u_t per year.
    The variance of an h-step random-walk error in scale units is then h (var_u + var_eps), so the
    model-implied 80% / 95% half-widths are z * sqrt(h (var_u + var_eps)). The share var_u / (var_u +
    var_eps) says how much of the year-to-year change is common to all municipalities.
    """
    # the class itself, not statsmodels.api (which also imports formula, graphics, ...: ~0.2 CPU-s)
    from statsmodels.regression.mixed_linear_model import MixedLM

    rows = []
    for (ds, sid), g in panel.groupby(["dataset", "series"]):
        g = g.sort_values("year")
        s = series_scale(g["year"], g["value"])
        if not s > 0:
            continue
        d = np.diff(g["value"].to_numpy()) / np.diff(g["year"].to_numpy()) / s
        rows += [(ds, sid, int(y), v) for y, v in zip(g["year"].to_numpy()[1:], d, strict=True)]
    df = pd.DataFrame(rows, columns=["dataset", "series", "year", "d"])
    res = MixedLM(df["d"], np.ones((len(df), 1)), groups=df["year"]).fit(reml=True)
    var_u, var_e = float(res.cov_re.iloc[0, 0]), float(res.scale)
    out = []
    for h in range(1, h_max + 1):
        for alpha in ALPHAS:
            z = stats.norm.ppf(1 - alpha / 2)
            out.append(
                {
                    "h": h,
                    "alpha": alpha,
                    "q_mixedlm": z * math.sqrt(h * (var_u + var_e)),
                    "var_jaar": var_u,
                    "var_rest": var_e,
                    "aandeel_jaareffect": var_u / (var_u + var_e),
                    "n_verschillen": len(df),
                    "n_jaren": df["year"].nunique(),
                }
            )
    return pd.DataFrame(out)


# --- pace in the panel -----------------------------------------------------------------------------


def panel_pace(panel: pd.DataFrame, window: int) -> pd.DataFrame:
    """Robust pace in every window of ``window`` consecutive years of every panel series: Theil-Sen
    % per year on log(y), and Theil-Sen slope in scale units per year (for gap series)."""
    from analysis.goals.forecast import observed_pace, observed_pace_pct

    rows = []
    for (ds, sid), g in panel.groupby(["dataset", "series"]):
        g = g.sort_values("year")
        yrs, v = g["year"].to_numpy(), g["value"].to_numpy()
        s = series_scale(yrs, v)
        for i in range(0, len(v) - window + 1):
            yy, vv = yrs[i : i + window], v[i : i + window]
            if yy[-1] - yy[0] != window - 1:
                continue
            rows.append(
                {
                    "dataset": ds,
                    "series": sid,
                    "van": int(yy[0]),
                    "tot": int(yy[-1]),
                    "tempo_pct": observed_pace_pct(yy, vv),
                    "tempo_schaal": observed_pace(yy, vv) / s if s > 0 else np.nan,
                }
            )
    return pd.DataFrame(rows)
