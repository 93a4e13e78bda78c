"""Resilience v2 on the processed tables: axis scores and classes per buurt against both references,
the combined signal, aggregates as composition, validation, and the sensitivity run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from analysis.errors import InputError
from analysis.resilience.config import AXES, REFERENCES, ResilienceConfig
from analysis.resilience.index import (
    AxisPanel,
    axis_scores,
    build_axis_panel,
    contributions,
    level_class,
    signal,
    signal_reason,
    trend_class,
)

AGG_LEVELS = ("wijk", "focusgebied", "gemeente")
NOT_SCORED = "niet gescoord"


@dataclass(frozen=True)
class ResilienceResult:
    scores: pd.DataFrame  # one row per area (buurt, wijk, focusgebied, gemeente)
    composition: pd.DataFrame  # per aggregate and signal class: buurten and inhabitants
    contributions: pd.DataFrame
    context: pd.DataFrame  # context-only indicators (shown, never scored)
    excluded: pd.DataFrame
    year: int
    years: list[int]
    indicators_used: list[str]
    indicators_missing: list[str]
    synthetic: bool
    panels: dict[str, AxisPanel]  # buurt panels per axis


def _pivot(ind: pd.DataFrame, codes: list[str], inds: list[str]) -> pd.DataFrame:
    d = ind[ind["region_code"].isin(codes) & ind["indicator"].isin(inds)]
    return d.pivot_table(index=["region_code", "year"], columns="indicator", values="value")


def _latest_weight(ind: pd.DataFrame, codes: list[str], name: str) -> pd.Series:
    """Latest real weight per region; a synthetic one only where no real one exists."""
    d = ind[(ind["indicator"] == name) & ind["region_code"].isin(codes)]
    d = d.assign(_real=d["origin"] != "synthetic").sort_values(["_real", "year"])
    return d.groupby("region_code")["value"].last()


def _national(ind: pd.DataFrame, inds: list[str]) -> pd.DataFrame:
    nat = ind[(ind["region_code"] == "NL00") & ind["indicator"].isin(inds)]
    return nat.pivot_table(index="year", columns="indicator", values="value")


def _bounds(ind: pd.DataFrame, cfg: ResilienceConfig, codes: list[str]):
    out = {}
    for name, (lo, hi) in cfg.bounds.items():
        pl, ph = _pivot(ind, codes, [lo]), _pivot(ind, codes, [hi])
        if len(pl) and len(ph):
            out[name] = (pl.rename(columns={lo: name}), ph.rename(columns={hi: name}))
    return out


def score_areas(
    ind: pd.DataFrame,
    codes: list[str],
    weights: pd.Series,
    cfg: ResilienceConfig,
    years: list[int],
) -> tuple[pd.DataFrame, dict[str, AxisPanel]]:
    """Axis scores and classes for ``codes``, standardised against ``codes`` themselves (one level)."""
    nat = _national(ind, cfg.scored)
    values = _pivot(ind, codes, cfg.scored)
    bounds = _bounds(ind, cfg, codes)
    out = pd.DataFrame({"region_code": codes})
    panels = {}
    for axis in AXES:
        panels[axis] = build_axis_panel(values, weights, cfg, axis, years, codes, nat, bounds)
    return add_score_columns(out, panels, cfg), panels


def add_score_columns(out: pd.DataFrame, panels: dict[str, AxisPanel], cfg: ResilienceConfig) -> pd.DataFrame:
    """Level, change and their classes per axis and reference, then the signal and its reason per
    reference and the configured one as ``signaal`` (rows of ``out`` = rows of the panels)."""
    t = cfg.thresholds
    for axis, p in panels.items():
        for ref in REFERENCES:
            s = axis_scores(p, ref, cfg.min_coverage)
            out[f"{axis}_niveau_{ref}"] = s["niveau"]
            out[f"{axis}_trend_{ref}"] = s["trend"]
            out[f"{axis}_niveauklasse_{ref}"] = level_class(s["niveau"], t.level)
            out[f"{axis}_trendklasse_{ref}"] = trend_class(s["trend"], t.change)
            if ref == "gemeente":
                out[f"{axis}_dekking"] = s["dekking"]
    for ref in REFERENCES:
        args = [out[f"{a}_{k}_{ref}"].to_numpy(float) for a in AXES for k in ("niveau", "trend")]
        out[f"signaal_{ref}"] = signal(*args, t.level, t.change)
        out[f"signaal_reden_{ref}"] = signal_reason(*args, t.level, t.change)
    out["signaal"] = out[f"signaal_{cfg.signal.reference}"]
    out["signaal_reden"] = out[f"signaal_reden_{cfg.signal.reference}"]
    return out


def _membership(reg: pd.DataFrame) -> pd.DataFrame:
    b = reg[reg["level"] == "buurt"]
    gm = reg.loc[reg["level"] == "gemeente", "region_code"]
    parts = [
        b[["wijk_code", "region_code"]].set_axis(["area_code", "buurtcode"], axis=1),
        b.loc[b["focusgebied"].notna(), ["focusgebied", "region_code"]].set_axis(
            ["area_code", "buurtcode"], axis=1
        ),
        b.loc[b["focusgebied"].notna(), ["region_code"]]
        .rename(columns={"region_code": "buurtcode"})
        .assign(area_code="FG00"),
    ]
    if len(gm):
        parts.append(
            b[["region_code"]].rename(columns={"region_code": "buurtcode"}).assign(area_code=gm.iloc[0])
        )
    m = pd.concat(parts, ignore_index=True)
    return m[m["area_code"].isin(set(reg["region_code"]))]


def composition(buurt_scores: pd.DataFrame, reg: pd.DataFrame) -> pd.DataFrame:
    """Per aggregate and signal class: number of buurten and inhabitants (and shares).

    Small buurten that get no score count as 'niet gescoord', so nobody disappears.
    """
    meta = reg.set_index("region_code")
    sig = buurt_scores.set_index("region_code")["signaal"]
    m = _membership(reg)
    m = m.assign(
        signaal=m["buurtcode"].map(sig).fillna(NOT_SCORED),
        inwoners=m["buurtcode"].map(meta["inwoners"]).fillna(0.0),
    )
    g = m.groupby(["area_code", "signaal"]).agg(n_buurten=("buurtcode", "size"), inwoners=("inwoners", "sum"))
    g = g.reset_index().rename(columns={"area_code": "region_code"})
    tot = g.groupby("region_code")[["n_buurten", "inwoners"]].transform("sum")
    g["aandeel_buurten"] = g["n_buurten"] / tot["n_buurten"]
    g["aandeel_inwoners"] = (g["inwoners"] / tot["inwoners"].replace(0, np.nan)).fillna(0.0)
    g["level"] = g["region_code"].map(meta["level"])
    g["name"] = g["region_code"].map(meta["name"])
    order = {
        s: i for i, s in enumerate(("signaal", "aandacht", "geen signaal", "onvoldoende data", NOT_SCORED))
    }
    g = g.sort_values(["region_code", "signaal"], key=lambda s: s.map(order) if s.name == "signaal" else s)
    cols = [
        "region_code",
        "name",
        "level",
        "signaal",
        "n_buurten",
        "inwoners",
        "aandeel_buurten",
        "aandeel_inwoners",
    ]
    return g[cols].reset_index(drop=True)


def _composition_text(comp: pd.DataFrame) -> pd.Series:
    def nl(x: float) -> str:  # whole number with the Dutch thousands dot: 45030 -> 45.030
        return f"{round(x):,}".replace(",", ".")

    def text(g: pd.DataFrame) -> str:
        n, inw = int(g["n_buurten"].sum()), float(g["inwoners"].sum())
        parts = [
            f"{int(r.n_buurten)} {r.signaal} ({nl(r.inwoners)} inw.)"
            for r in g.itertuples()
            if r.n_buurten > 0
        ]
        return f"{n} buurten, {nl(inw)} inwoners: " + "; ".join(parts)

    return comp.groupby("region_code")[["signaal", "n_buurten", "inwoners"]].apply(text)


def describe_scores(scores: pd.DataFrame, meta: pd.DataFrame, year: int, years: list[int], cfg) -> None:
    """Area attributes (from ``meta``, the regions indexed by code), the reference year and period,
    and the signal rule's reference and thresholds on every row of ``scores`` (in place); shared by
    the municipal and the national (grouped) pass."""
    scores["level"] = scores["region_code"].map(meta["level"])
    scores["name"] = scores["region_code"].map(meta["name"])
    scores["focusgebied"] = scores["region_code"].map(meta["focusgebied"])
    scores["inwoners"] = scores["region_code"].map(meta["inwoners"])
    scores["year"] = year
    scores["jaren"] = f"{years[0]}-{years[-1]}"
    scores["referentie_signaal"] = cfg.signal.reference
    scores["drempel_niveau"] = cfg.thresholds.level
    scores["drempel_verandering"] = cfg.thresholds.change


def compute(
    ind: pd.DataFrame,
    regions: pd.DataFrame,
    cfg: ResilienceConfig,
    min_inwoners: int,
    gemeente: str | None = None,
) -> ResilienceResult:
    """Score every buurt of the municipality above ``min_inwoners``; aggregates as composition and
    (wijken, focus areas) standardised against areas of their own level."""
    reg = pd.DataFrame(regions.drop(columns="geometry", errors="ignore"))
    if gemeente is not None and gemeente not in set(reg.loc[reg["level"] == "gemeente", "region_code"]):
        raise InputError(f"municipality code {gemeente}: not in the processed regions table")
    buurten = reg[reg["level"] == "buurt"]
    if buurten.empty:
        raise InputError("regions.gpkg: no buurten to score")
    pop = buurten.set_index("region_code")["inwoners"].fillna(0)
    excluded = pop[pop < min_inwoners]
    excluded_df = pd.DataFrame(
        {
            "region_code": excluded.index,
            "name": buurten.set_index("region_code").loc[excluded.index, "name"].to_numpy(),
            "inwoners": excluded.to_numpy(),
            "reden": [f"minder dan {min_inwoners} inwoners" for _ in excluded],
        }
    )
    scored = sorted(set(pop.index) - set(excluded.index))
    if not scored:
        raise InputError(f"no buurt has at least {min_inwoners} inhabitants: nothing to score")

    b_rows = ind[ind["region_code"].isin(scored) & ind["indicator"].isin(cfg.scored)]
    used = [i for i in cfg.scored if i in set(b_rows["indicator"])]
    missing = [i for i in cfg.scored if i not in used]
    data_years = sorted(b_rows["year"].unique().tolist())
    if not data_years:
        raise InputError("indicators.parquet: none of the axis indicators has buurt values")
    year = cfg.ref_year if cfg.ref_year is not None else max(data_years)
    if year not in data_years:
        raise InputError(f"config/resilience.yaml: year: {year} has no buurt data (available {data_years})")
    years = list(range(year - cfg.change_years + 1, year + 1))

    hh = _latest_weight(ind, scored, "huishoudens").reindex(scored)
    b, panels = score_areas(ind, scored, hh, cfg, years)

    # aggregates: composition always; axis scores only against areas of the same level
    meta = reg.set_index("region_code")
    frames = [b]
    for codes in (
        reg.loc[reg["level"] == "wijk", "region_code"].tolist(),
        [c for c in reg.loc[reg["level"] == "focusgebied", "region_code"] if c != "FG00"],  # FG00 overlaps
    ):
        if len(codes) >= 2:
            s, _ = score_areas(ind, sorted(codes), meta.loc[sorted(codes), "inwoners"], cfg, years)
            s = s.rename(
                columns={"signaal": "signaal_eigen_niveau", "signaal_reden": "signaal_reden_eigen_niveau"}
            )
            s = s.drop(columns=[c for c in s.columns if c.startswith("signaal_") and c[8:] in REFERENCES])
            s = s.drop(columns=[f"signaal_reden_{r}" for r in REFERENCES], errors="ignore")
            frames.append(s)
    others = reg.loc[reg["level"].isin(AGG_LEVELS), "region_code"]
    done = set(pd.concat(frames)["region_code"])
    frames.append(pd.DataFrame({"region_code": [c for c in others if c not in done]}))
    scores = pd.concat(frames, ignore_index=True)

    comp = composition(b, reg)
    text = _composition_text(comp)
    sig = comp[comp["signaal"] == "signaal"].set_index("region_code")
    is_agg = scores["region_code"].isin(set(comp["region_code"]))
    scores["samenstelling"] = scores["region_code"].map(text).where(is_agg)
    scores["n_buurten_signaal"] = (
        scores["region_code"].map(sig["n_buurten"]).where(is_agg).fillna(0).where(is_agg)
    )
    scores["inwoners_signaal"] = (
        scores["region_code"].map(sig["inwoners"]).where(is_agg).fillna(0).where(is_agg)
    )
    scores["aandeel_inwoners_signaal"] = (
        scores["region_code"].map(sig["aandeel_inwoners"]).where(is_agg).fillna(0).where(is_agg)
    )

    describe_scores(scores, meta, year, years, cfg)
    contrib = pd.concat([contributions(panels[a]) for a in AXES], ignore_index=True)

    inputs = ind[ind["indicator"].isin(used) & ind["year"].isin(years)]
    origins = inputs.groupby("region_code")["origin"].agg(lambda s: ",".join(sorted(set(s))))
    # an aggregate's inputs are its own (aggregated) rows; buurt composition inherits buurt origins
    scores["input_origins"] = scores["region_code"].map(origins).fillna("")
    scores["synthetic_inputs"] = scores["input_origins"].str.contains("synthetic")
    synthetic = bool(scores["synthetic_inputs"].any())

    ctx_rows = ind[ind["indicator"].isin(cfg.context) & ind["region_code"].isin(scores["region_code"])]
    ctx_rows = ctx_rows[ctx_rows["year"] <= year].sort_values("year")
    context = ctx_rows.groupby(["region_code", "indicator"]).tail(1).reset_index(drop=True)
    context = context.assign(rol="context (niet gescoord)")

    lead = ["region_code", "name", "level", "focusgebied", "inwoners", "year", "jaren"]
    rest = [c for c in scores.columns if c not in lead]
    return ResilienceResult(
        scores=scores[lead + rest],
        composition=comp,
        contributions=contrib,
        context=context,
        excluded=excluded_df,
        year=year,
        years=years,
        indicators_used=used,
        indicators_missing=missing,
        synthetic=synthetic,
        panels=panels,
    )


def validate_against_focus(res: ResilienceResult) -> tuple[dict, pd.DataFrame]:
    """Precision/recall of 'signaal' against the programme's focus buurten, ROC AUC of axis A."""
    b = res.scores[(res.scores["level"] == "buurt") & (res.scores["signaal"] != "onvoldoende data")]
    y = b["focusgebied"].notna().to_numpy()
    flagged = (b["signaal"] == "signaal").to_numpy()
    tp = int((y & flagged).sum())
    a = b["A_niveau_gemeente"].to_numpy(float)
    ok = ~np.isnan(a)
    metrics = {
        "year": res.year,
        "n_buurten": int(len(b)),
        "n_focus": int(y.sum()),
        "n_signaal": int(flagged.sum()),
        "true_positives": tp,
        "precision_signaal": tp / flagged.sum() if flagged.sum() else float("nan"),
        "recall_signaal": tp / y.sum() if y.sum() else float("nan"),
        "roc_auc_A_niveau": float(roc_auc_score(y[ok], a[ok]))
        if 0 < y[ok].sum() < ok.sum()
        else float("nan"),
        "synthetic_inputs": res.synthetic,
        "status": "methodedemonstratie op synthetische invoer (geen bevinding)"
        if res.synthetic
        else "bevinding op echte invoer",
    }
    rows = []
    for r in b.itertuples():
        focus, sig = isinstance(r.focusgebied, str), r.signaal == "signaal"
        if focus == sig:
            continue
        rows.append(
            {
                "region_code": r.region_code,
                "name": r.name,
                "focusgebied": r.focusgebied,
                "signaal": r.signaal,
                "signaal_reden": r.signaal_reden,
                "A_niveau_gemeente": r.A_niveau_gemeente,
                "soort": "signaal, geen focusbuurt" if sig else "focusbuurt, geen signaal",
                "synthetic_inputs": res.synthetic,
            }
        )
    cols = [
        "region_code",
        "name",
        "focusgebied",
        "signaal",
        "signaal_reden",
        "A_niveau_gemeente",
        "soort",
        "synthetic_inputs",
    ]
    return metrics, pd.DataFrame(rows, columns=cols)


def _perturbed_scores(panel: AxisPanel, ref, cfg, w, mask, z):
    return axis_scores(panel, ref, cfg.min_coverage, weights=w, mask=mask, z=z)


def _bound_extreme(panel: AxisPanel, ref: str, worse: bool) -> np.ndarray:
    """z with every bounded value at the bound that is worse (or better) for the signal."""
    z, lo, hi = panel.z[ref], panel.z_lo[ref], panel.z_hi[ref]
    has = ~np.isnan(lo) & ~np.isnan(hi)
    # A: higher is worse; B: lower is worse
    pick_max = worse if panel.axis == "A" else not worse
    ext = np.maximum(lo, hi) if pick_max else np.minimum(lo, hi)
    return np.where(has, ext, z)


def sensitivity(
    res: ResilienceResult, cfg: ResilienceConfig, n_sim: int | None = None
) -> tuple[pd.DataFrame, dict]:
    """Seeded Monte Carlo of the headline signal per buurt.

    Each draw multiplies every indicator weight by a log-normal factor, leaves each indicator out
    with a fixed probability (at least one kept per axis), shifts both thresholds by -step, 0 or
    +step, and draws every value that has published reliability bounds uniformly between them.
    'robuust' also requires the class to hold with all bounded values at their worse and at their
    better bound.
    """
    s = cfg.sensitivity
    n_sim = int(n_sim or s.n_sim)
    rng = np.random.default_rng(s.seed)
    ref = cfg.signal.reference
    t = cfg.thresholds
    pa, pb = res.panels["A"], res.panels["B"]
    n_r = len(pa.regions)
    hits = np.zeros(n_r)
    hits_fixed = np.zeros(n_r)
    valid = np.zeros(n_r)
    a_draws = np.full((n_sim, n_r), np.nan)
    for k in range(n_sim):
        out = {}
        for p in (pa, pb):
            n_i = len(p.indicators)
            w = p.weights * rng.lognormal(0.0, s.weight_sd, n_i)
            mask = rng.random(n_i) >= s.drop_probability
            if not mask.any():
                mask[rng.integers(n_i)] = True
            lo, hi = p.z_lo[ref], p.z_hi[ref]
            u = rng.random(lo.shape)
            z = np.where(np.isnan(lo) | np.isnan(hi), p.z[ref], lo + u * (hi - lo))
            out[p.axis] = _perturbed_scores(p, ref, cfg, w, mask, z)
        shift = rng.integers(-1, 2, size=2) * t.step
        args = [out["A"]["niveau"], out["A"]["trend"], out["B"]["niveau"], out["B"]["trend"]]
        sig = signal(*args, t.level + shift[0], t.change + shift[1])
        sig_fixed = signal(*args, t.level, t.change)
        ok = sig != "onvoldoende data"
        valid += ok
        hits += ok & (sig == "signaal")
        hits_fixed += (sig_fixed != "onvoldoende data") & (sig_fixed == "signaal")
        a_draws[k] = out["A"]["niveau"]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_sig = np.where(valid > 0, hits / valid, np.nan)
        p_fixed = np.where(valid > 0, hits_fixed / valid, np.nan)

    extremes = {}
    for name, worse in (("slechtste", True), ("gunstigste", False)):
        sa = axis_scores(pa, ref, cfg.min_coverage, z=_bound_extreme(pa, ref, worse))
        sb = axis_scores(pb, ref, cfg.min_coverage, z=_bound_extreme(pb, ref, worse))
        extremes[name] = signal(sa["niveau"], sa["trend"], sb["niveau"], sb["trend"], t.level, t.change)
    has_bounds = (~np.isnan(pa.z_lo[ref][-1]).all(axis=1)) | (~np.isnan(pb.z_lo[ref][-1]).all(axis=1))
    hi_p, lo_p = s.robust_above, s.robust_below
    both_sig = (extremes["slechtste"] == "signaal") & (extremes["gunstigste"] == "signaal")
    none_sig = (extremes["slechtste"] != "signaal") & (extremes["gunstigste"] != "signaal")
    label = np.full(n_r, "hangt af van keuzes", dtype=object)
    label[(p_sig >= hi_p) & both_sig] = "robuust signaal"
    label[(p_sig <= lo_p) & none_sig] = "robuust geen signaal"
    label[np.isnan(p_sig)] = "onvoldoende data"
    model_dep = (p_sig > lo_p) & (p_sig < hi_p)
    bound_dep = ~(both_sig | none_sig)
    bron = np.where(
        model_dep & bound_dep,
        "modelkeuzes en betrouwbaarheidsgrenzen",
        np.where(model_dep, "modelkeuzes", np.where(bound_dep, "betrouwbaarheidsgrenzen", "")),
    )
    bron = np.where(label == "hangt af van keuzes", bron, "")
    base = res.scores.set_index("region_code").loc[pa.regions, "signaal"].to_numpy()
    table = pd.DataFrame(
        {
            "region_code": pa.regions,
            "signaal": base,
            "p_signaal": p_sig,
            "p_signaal_vaste_drempels": p_fixed,
            "signaal_slechtste_grens": extremes["slechtste"],
            "signaal_gunstigste_grens": extremes["gunstigste"],
            "betrouwbaarheidsgrenzen_gebruikt": has_bounds,
            "A_niveau_p05": np.nanpercentile(a_draws, 5, axis=0),
            "A_niveau_p95": np.nanpercentile(a_draws, 95, axis=0),
            "robuustheid": label,
            "onzekerheid_door": bron,
            "referentie": ref,
            "synthetic_inputs": res.synthetic,
        }
    )
    summary = {
        "n_sim": n_sim,
        "seed": s.seed,
        "referentie": ref,
        "drempels": {"niveau": t.level, "trend": t.change, "stap": t.step},
        "n_robuust_signaal": int((label == "robuust signaal").sum()),
        "n_robuust_geen_signaal": int((label == "robuust geen signaal").sum()),
        "n_afhankelijk": int((label == "hangt af van keuzes").sum()),
        "n_met_betrouwbaarheidsgrenzen": int(has_bounds.sum()),
    }
    return table, summary
