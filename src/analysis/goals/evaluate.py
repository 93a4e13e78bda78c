"""Evaluate one goal for one area: target, point forecast, calibrated interval, P(met), pace, scenarios."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.figures import sources_of
from analysis.goals.calibration import Calibration
from analysis.goals.catalog import Doel
from analysis.goals.forecast import (
    LOG_MODELS,
    TREND_LABEL,
    is_met,
    observed_pace,
    observed_pace_pct,
    p_band,
    point_forecast,
    required_pace,
    required_pace_pct,
    series_scale,
    status_of,
    target_value,
)
from analysis.goals.series import Evidence, forecast_series
from analysis.records import ORIGIN_PRIORITY, ORIGINS

GEO_CODES = {"focusgebieden_samen": ["FG00"], "elk_focusgebied": [f"FG{i:02d}" for i in range(1, 16)]}
SCENARIOS = ("trend_zet_door", "trend_halveert", "beste_in_paneel")


@dataclass(frozen=True)
class PanelPace:
    """Fastest sustained robust change seen in the real panel (per window of ``window`` years)."""

    daling_pct: float
    stijging_pct: float
    daling_schaal: float
    stijging_schaal: float
    window: int
    bron: str

    @classmethod
    def from_table(cls, pace: pd.DataFrame, window: int, bron: str) -> PanelPace:
        return cls(
            float(pace["tempo_pct"].min()),
            float(pace["tempo_pct"].max()),
            float(pace["tempo_schaal"].min()),
            float(pace["tempo_schaal"].max()),
            window,
            bron,
        )


def regions_for(goal: Doel, gemeente: str) -> list[str]:
    out: list[str] = []
    for g in goal.geografie:
        out += [gemeente] if g == "gemeente" else GEO_CODES[g]
    return out


SERIES_COLUMNS = ["year", "value", "provisional", "origin", "source_table"]


class IndicatorRows:
    """The indicator table split once by (indicator, area): a goal's rows without a scan of the whole
    table (rows in table order, as a boolean selection gives them)."""

    def __init__(self, ind: pd.DataFrame):
        self._table = ind[SERIES_COLUMNS]
        self._pos: dict[tuple, list[int]] = {}
        for i, key in enumerate(zip(ind["indicator"].tolist(), ind["region_code"].tolist(), strict=True)):
            self._pos.setdefault(key, []).append(i)

    def rows(self, indicator: str, region: str) -> pd.DataFrame:
        return self._table.take(np.asarray(self._pos.get((indicator, region), []), dtype=np.intp))


def goal_series(ind: pd.DataFrame | IndicatorRows, goal: Doel, region: str, gemeente: str) -> pd.DataFrame:
    """Observed series for a goal: the indicator, or for parity the gap area - municipality."""
    rows = ind if isinstance(ind, IndicatorRows) else IndicatorRows(ind)
    own = rows.rows(goal.indicator, region)
    if goal.doeltype != "pariteit":
        return own.sort_values("year").reset_index(drop=True)
    ref = rows.rows(goal.indicator, gemeente)
    fast = _gap_series(own, ref)
    if fast is not None:
        return fast
    m = own.merge(ref, on="year", suffixes=("", "_ref"))
    worst = np.maximum(m["origin"].map(ORIGIN_PRIORITY), m["origin_ref"].map(ORIGIN_PRIORITY))
    return (
        pd.DataFrame(
            {
                "year": m["year"],
                "value": m["value"] - m["value_ref"],
                "provisional": m["provisional"] | m["provisional_ref"],
                "origin": worst.map(dict(enumerate(ORIGINS))),
                "source_table": m["source_table"],
            }
        )
        .sort_values("year")
        .reset_index(drop=True)
    )


def _gap_series(own: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame | None:
    """The parity gap of :func:`goal_series` without a merge, for the usual case (each year once on
    either side, known origins); None otherwise (then the merge decides). Same rows, order and types:
    the years both sides hold, in year order."""
    for side in (own, ref):  # plain numpy years and flags only (the schema's types); else the merge
        year, prov = side["year"].dtype, side["provisional"].dtype
        if not (isinstance(year, np.dtype) and year.kind in "iu" and prov == np.dtype(bool)):
            return None
    oy, ry = own["year"].to_numpy(), ref["year"].to_numpy()
    if len(set(oy.tolist())) < len(oy) or len(set(ry.tolist())) < len(ry):
        return None
    oo, ro = own["origin"].tolist(), ref["origin"].tolist()
    if not all(o in ORIGIN_PRIORITY for o in (*oo, *ro)):
        return None
    at = {y: j for j, y in enumerate(ry.tolist())}
    li = np.array([i for i, y in enumerate(oy.tolist()) if y in at], dtype=np.intp)
    if not len(li):
        return None
    ri = np.array([at[y] for y in oy[li].tolist()], dtype=np.intp)
    order = np.argsort(oy[li], kind="quicksort")
    li, ri = li[order], ri[order]
    prov = own["provisional"].to_numpy()[li] | ref["provisional"].to_numpy()[ri]
    worst = [max(ORIGIN_PRIORITY[oo[i]], ORIGIN_PRIORITY[ro[j]]) for i, j in zip(li, ri, strict=True)]
    return pd.DataFrame(
        {
            "year": oy[li],
            "value": own["value"].to_numpy()[li] - ref["value"].to_numpy()[ri],
            "provisional": prov,
            "origin": pd.Series([ORIGINS[w] for w in worst], dtype="str"),
            "source_table": own["source_table"].array.take(li),
        }
    )


def _base_row(goal: Doel, region: str, s: pd.DataFrame) -> dict:
    row = {
        "doel_id": goal.id,
        "pijler": goal.pijler,
        "indicator": goal.indicator,
        "region_code": region,
        "doeltype": goal.doeltype,
        "richting": goal.richting,
        "basisjaar": goal.basisjaar,
        "doeljaar": goal.doeljaar,
        "n_punten": len(s),
        "eerste_jaar": int(s["year"].min()) if len(s) else None,
        "laatste_jaar": int(s["year"].max()) if len(s) else None,
        "laatste_waarde": float(s["value"].iloc[-1]) if len(s) else None,
        "laatste_jaar_voorlopig": bool(s["provisional"].iloc[-1]) if len(s) else False,
        "voorlopige_jaren": ",".join(str(y) for y in s.loc[s["provisional"], "year"]),
        "origin": ",".join(sorted(set(s["origin"]))) if len(s) else "",
        "bron": sources_of(s) if len(s) else "",
        "basiswaarde": None,
        "doelwaarde_berekend": None,
        "doelwaarde_gladde_basis": None,
        "model": None,
        "modelkeuze": None,
        "prognose_kandidaten": None,
        "h_doeljaar": None,
        "schaal": None,
        "prognose": None,
        "prognose_drift": None,
        "lo80": None,
        "hi80": None,
        "lo95": None,
        "hi95": None,
        "interval_soort": None,
        "p_gehaald": None,
        "kans_band": None,
        "kans_betekenis": None,
        "benodigd_tempo": None,
        "benodigd_tempo_pct": None,
        "waargenomen_tempo": None,
        "waargenomen_tempo_pct": None,
        "snelste_paneltempo_pct": None,
        "paneltempo_bron": None,
        "scenario_trend_zet_door": None,
        "scenario_trend_halveert": None,
        "scenario_beste_in_paneel": None,
        "scenarios_gehaald": None,
        "status": "onvoldoende data",
        "toelichting_status": "",
    }
    row["synthetic"] = "synthetic" in row["origin"]
    return row


def scenario_paths(
    years, values, future, lower_is_better: bool, pace: PanelPace | None, relative: bool
) -> dict[str, np.ndarray]:
    """Planning scenarios from the last value: the robust observed trend continues, halves, or the
    fastest favourable sustained change seen in the panel. Compound % for level series, linear in
    the series' own scale for gaps."""
    years, values = np.asarray(years, int), np.asarray(values, float)
    h = np.asarray(future, int) - years[-1]
    last = values[-1]
    out = {}
    if relative:
        p = observed_pace_pct(years, values) / 100
        out["trend_zet_door"] = last * (1 + p) ** h
        out["trend_halveert"] = last * (1 + p / 2) ** h
        if pace is not None:
            best = (pace.daling_pct if lower_is_better else pace.stijging_pct) / 100
            out["beste_in_paneel"] = last * (1 + best) ** h
    else:
        b = observed_pace(years, values)
        out["trend_zet_door"] = last + b * h
        out["trend_halveert"] = last + b / 2 * h
        s = series_scale(years, values)
        if pace is not None and s > 0:
            best = pace.daling_schaal if lower_is_better else pace.stijging_schaal
            out["beste_in_paneel"] = last + best * s * h
    return out


def evaluate(
    goal: Doel,
    region: str,
    s: pd.DataFrame,
    fcfg: dict,
    scfg: dict,
    calibration: Calibration,
    ranking: list[str],
    pace: PanelPace | None = None,
):
    """Status row and forecast rows for one goal and area.

    ``ranking``: candidate models best-first by rolling-origin MASE on the real panel; the first one
    that applies is used. The interval is point +/- q_h * scale with q_h from ``calibration`` (the
    growth-law extrapolation beyond the observed horizons, labelled as such).
    """
    row = _base_row(goal, region, s)
    if len(s) < int(scfg["min_punten"]):
        row["toelichting_status"] = f"minder dan {scfg['min_punten']} waarnemingen"
        return row, pd.DataFrame()
    years, values = s["year"].to_numpy(), s["value"].to_numpy().astype(float)
    gap = goal.doeltype == "pariteit"
    base = None
    if goal.doeltype in ("relatief", "richting"):
        hit = s.loc[s["year"] == goal.basisjaar, "value"]
        if hit.empty:
            row["toelichting_status"] = f"basisjaar {goal.basisjaar} niet waargenomen"
            return row, pd.DataFrame()
        base = float(hit.iloc[0])
    target = target_value(goal.doeltype, goal.doelwaarde, base)
    row["basiswaarde"], row["doelwaarde_berekend"] = base, target
    if base is not None and len(s) >= 3:
        # the baseline is one noisy observation: the target from the robust trend line at the
        # baseline year shows how much the target itself depends on that one year
        b = observed_pace(years, values)
        smooth = float(np.median(values - b * (years - goal.basisjaar)))
        row["doelwaarde_gladde_basis"] = target_value(goal.doeltype, goal.doelwaarde, smooth)
    relative = (not gap) and bool((values > 0).all())
    row["waargenomen_tempo"] = observed_pace(years, values)
    row["waargenomen_tempo_pct"] = observed_pace_pct(years, values) if relative else None
    last_year = int(years[-1])
    lower = goal.lower_is_better
    if goal.doeljaar <= last_year:
        obs = s.loc[s["year"] == goal.doeljaar, "value"]
        if obs.empty:
            row["toelichting_status"] = f"doeljaar {goal.doeljaar} niet waargenomen"
            return row, pd.DataFrame()
        met = is_met(float(obs.iloc[0]), target, lower)
        row.update(
            prognose=float(obs.iloc[0]),
            status="op koers" if met else "niet op koers",
            kans_band="waargenomen",
            toelichting_status="doeljaar al waargenomen",
        )
        return row, pd.DataFrame()
    row["benodigd_tempo"] = required_pace(float(values[-1]), last_year, target, goal.doeljaar)
    if relative and target > 0:
        row["benodigd_tempo_pct"] = required_pace_pct(float(values[-1]), last_year, target, goal.doeljaar)
    if pace is not None and relative:
        row["snelste_paneltempo_pct"] = pace.daling_pct if lower else pace.stijging_pct
        row["paneltempo_bron"] = pace.bron
    ev = Evidence(
        calibration, tuple(ranking), int(fcfg["min_backtest_points"]), float(fcfg["eigen_keuze_marge"])
    )
    series = pd.Series(values, index=years)
    fcs = forecast_series(series, goal.doeljaar, gap=gap, evidence=ev)  # what a researcher gets too
    model = fcs.attrs["model"]
    row["model"], row["modelkeuze"] = model, fcs.attrs["modelkeuze"]
    future = fcs.index.to_numpy()
    h = future - last_year
    point = fcs["point"].to_numpy()
    cands = {
        m: point_forecast(years, values, [goal.doeljaar], m, gap=gap)
        for m in ranking
        if not (gap and m in LOG_MODELS)
    }
    row["prognose_kandidaten"] = "; ".join(f"{m}={v[0]:.4g}" for m, v in cands.items() if v is not None)
    scale = float(fcs.attrs["scale"][-1])
    band = {c: fcs[c].to_numpy() for c in ("lo80", "hi80", "lo95", "hi95")}
    r = fcs.attrs["trend_ruis"]
    p = calibration.prob_met(model, int(h[-1]), float(point[-1]), scale, target, lower, r)
    soort = fcs["kind"].to_numpy()
    drift = fcs.attrs["drift"]
    row.update(
        h_doeljaar=int(h[-1]),
        schaal=scale,
        prognose=float(point[-1]),
        prognose_drift=None if drift is None else float(drift.iloc[-1]),
        lo80=float(band["lo80"][-1]),
        hi80=float(band["hi80"][-1]),
        lo95=float(band["lo95"][-1]),
        hi95=float(band["hi95"][-1]),
        interval_soort=str(soort[-1]),
        p_gehaald=p,
        kans_band=p_band(p),
        kans_betekenis=TREND_LABEL,
        status=status_of(p, float(scfg["op_koers"]), float(scfg["risico"])),
    )
    notes = []
    if scale == 0:
        notes.append("reeks zonder spreiding: interval alleen uit de puntprognose, geen kans")
    if row["laatste_jaar_voorlopig"]:
        notes.append("laatste jaar voorlopig")
    common = {"doel_id": goal.id, "region_code": region}
    frames = [
        {**common, "year": years, "soort": "waarneming", "waarde": values, "model": None,
         "synthetic": row["synthetic"], "provisional": s["provisional"].to_numpy()},
        {**common, "year": future, "soort": "prognose", "waarde": point, **band, "interval_soort": soort,
         "model": model, "synthetic": row["synthetic"]},
    ]  # fmt: skip
    if drift is not None:  # the drift forecast beside the naive point (docs: why)
        frames.append(
            {**common, "year": future, "soort": "vergelijking", "waarde": drift.to_numpy(), "model": "drift",
             "synthetic": row["synthetic"]}
        )  # fmt: skip
    if h[-1] > int(fcfg["scenario_na_jaren"]):
        scen = scenario_paths(years, values, future, lower, pace, relative)
        met = []
        for name, path in scen.items():
            row[f"scenario_{name}"] = float(path[-1])
            if is_met(float(path[-1]), target, lower):
                met.append(name)
            frames.append(
                {**common, "year": future, "soort": "scenario", "waarde": path, "scenario": name,
                 "synthetic": row["synthetic"]}
            )  # fmt: skip
        row["scenarios_gehaald"] = ",".join(met) if met else "geen"
    row["toelichting_status"] = "; ".join(notes)
    return row, forecast_frame(frames)


# the column types pd.concat gives the parts of a goal's forecast frame (a column missing from a part
# is missing there: NaN; so the booleans of the observations become objects)
FRAME_TYPES = {
    "doel_id": "str", "region_code": "str", "year": "int64", "soort": "str", "waarde": "float64",
    "model": "object", "synthetic": "bool", "provisional": "object", "lo80": "float64", "hi80": "float64",
    "lo95": "float64", "hi95": "float64", "interval_soort": "str", "scenario": "str",
}  # fmt: skip


def forecast_frame(parts: list[dict]) -> pd.DataFrame:
    """One goal's forecast rows from its parts (observations, forecast, comparison, scenarios; each a
    mapping of column to array or scalar): the frame ``pd.concat`` of one DataFrame per part gives,
    built at once. Columns in order of first appearance; a column a part lacks is NaN there."""
    sizes = [len(p["year"]) for p in parts]
    cols = list(dict.fromkeys(c for p in parts for c in p))
    out = {}
    for c in cols:
        kind = FRAME_TYPES[c]
        if kind == "bool" and not all(c in p for p in parts):
            kind = "object"
        chunks = []
        for p, n in zip(parts, sizes, strict=True):
            v = p.get(c, np.nan)
            if np.ndim(v) == 0:
                chunks.append(np.full(n, v, dtype=object if kind in ("str", "object") else kind))
            else:
                chunks.append(np.asarray(v).astype(object if kind in ("str", "object") else kind))
        col = np.concatenate(chunks) if chunks else np.array([], dtype=object)
        # explicit Series: pandas would read an object array of strings and None as text
        out[c] = pd.Series(col, dtype="str" if kind == "str" else col.dtype, copy=False)
    return pd.DataFrame(out)
