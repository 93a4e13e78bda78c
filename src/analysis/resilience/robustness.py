"""Checks of the resilience result: validation against the programme's focus buurten and the
sensitivity run over other weights, indicator sets and thresholds (moved out of
:mod:`analysis.resilience.analysis`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from analysis.resilience.analysis import (
    ResilienceResult,
)
from analysis.resilience.config import ResilienceConfig
from analysis.resilience.index import (
    AxisPanel,
    axis_scores,
    signal,
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


def _draws(pa: AxisPanel, pb: AxisPanel, cfg: ResilienceConfig, n_sim: int) -> dict[str, np.ndarray]:
    """The perturbed axis scores of every draw (weights, indicator set, values within their
    reliability bounds) and each draw's threshold shift in steps (-1, 0, +1), plus the axis scores
    with every bounded value at its worse and at its better bound. None of it depends on the
    thresholds: a threshold change reuses it (analysis.reuse, see :func:`sensitivity`)."""
    s = cfg.sensitivity
    rng = np.random.default_rng(s.seed)
    ref = cfg.signal.reference
    n_r = len(pa.regions)
    out = {k: np.full((n_sim, n_r), np.nan) for k in ("A_niveau", "A_trend", "B_niveau", "B_trend")}
    out["shift"] = np.zeros((n_sim, 2), dtype=np.int64)
    for k in range(n_sim):
        for p in (pa, pb):
            n_i = len(p.indicators)
            w = p.weights * rng.lognormal(0.0, s.weight_sd, n_i)
            mask = rng.random(n_i) >= s.drop_probability
            if not mask.any():
                mask[rng.integers(n_i)] = True
            lo, hi = p.z_lo[ref], p.z_hi[ref]
            u = rng.random(lo.shape)
            z = np.where(np.isnan(lo) | np.isnan(hi), p.z[ref], lo + u * (hi - lo))
            sc = _perturbed_scores(p, ref, cfg, w, mask, z)
            out[f"{p.axis}_niveau"][k], out[f"{p.axis}_trend"][k] = sc["niveau"], sc["trend"]
        out["shift"][k] = rng.integers(-1, 2, size=2)
    for name, worse in (("slechtste", True), ("gunstigste", False)):
        sa = axis_scores(pa, ref, cfg.min_coverage, z=_bound_extreme(pa, ref, worse))
        sb = axis_scores(pb, ref, cfg.min_coverage, z=_bound_extreme(pb, ref, worse))
        for axis, sc in (("A", sa), ("B", sb)):
            out[f"{name}_{axis}_niveau"], out[f"{name}_{axis}_trend"] = sc["niveau"], sc["trend"]
    return out


def sensitivity(
    res: ResilienceResult, cfg: ResilienceConfig, n_sim: int | None = None, store=None
) -> tuple[pd.DataFrame, dict]:
    """Seeded Monte Carlo of the headline signal per buurt.

    Each draw multiplies every indicator weight by a log-normal factor, leaves each indicator out
    with a fixed probability (at least one kept per axis), shifts both thresholds by -step, 0 or
    +step, and draws every value that has published reliability bounds uniformly between them.
    'robuust' also requires the class to hold with all bounded values at their worse and at their
    better bound.

    ``store`` (an :class:`analysis.reuse.Store`): the draws are reused from it when the panels,
    the reference, the coverage rule, the perturbation settings, the seed and ``n_sim`` are those of
    an earlier run (only the thresholds, the robustness cut-offs or the classes differ).
    """
    from analysis.reuse import Store

    s = cfg.sensitivity
    n_sim = int(n_sim or s.n_sim)
    ref = cfg.signal.reference
    t = cfg.thresholds
    pa, pb = res.panels["A"], res.panels["B"]
    n_r = len(pa.regions)
    parts = (pa, pb, ref, cfg.min_coverage, s.seed, s.weight_sd, s.drop_probability, n_sim)
    d = (store or Store(None)).get_or_make(
        "gevoeligheid_trekkingen", parts, lambda: _draws(pa, pb, cfg, n_sim)
    )
    hits = np.zeros(n_r)
    hits_fixed = np.zeros(n_r)
    valid = np.zeros(n_r)
    for k in range(n_sim):
        shift = d["shift"][k] * t.step
        args = [d["A_niveau"][k], d["A_trend"][k], d["B_niveau"][k], d["B_trend"][k]]
        sig = signal(*args, t.level + shift[0], t.change + shift[1])
        sig_fixed = signal(*args, t.level, t.change)
        ok = sig != "onvoldoende data"
        valid += ok
        hits += ok & (sig == "signaal")
        hits_fixed += (sig_fixed != "onvoldoende data") & (sig_fixed == "signaal")
    a_draws = d["A_niveau"]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_sig = np.where(valid > 0, hits / valid, np.nan)
        p_fixed = np.where(valid > 0, hits_fixed / valid, np.nan)

    extremes = {
        name: signal(
            d[f"{name}_A_niveau"],
            d[f"{name}_A_trend"],
            d[f"{name}_B_niveau"],
            d[f"{name}_B_trend"],
            t.level,
            t.change,
        )
        for name in ("slechtste", "gunstigste")
    }
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
