"""Resilience v2 on the processed tables: axis scores and classes per buurt against both references,
the combined signal and aggregates as composition. Validation and the sensitivity run:
:mod:`analysis.resilience.robustness`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
        raise InputError(f"gemeentecode {gemeente}: niet in de tabel met gebieden (regions.gpkg)")
    buurten = reg[reg["level"] == "buurt"]
    if buurten.empty:
        raise InputError("regions.gpkg: geen buurten om te scoren")
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
        raise InputError(
            f"min_inwoners {min_inwoners}: geen buurt heeft zoveel inwoners; er is niets te scoren"
        )

    b_rows = ind[ind["region_code"].isin(scored) & ind["indicator"].isin(cfg.scored)]
    present = set(b_rows["indicator"].unique())
    used = [i for i in cfg.scored if i in present]
    missing = [i for i in cfg.scored if i not in used]
    data_years = sorted(b_rows["year"].unique().tolist())
    if not data_years:
        raise InputError(
            "indicators.parquet: geen van de indicatoren van de assen heeft waarden voor buurten"
        )
    year = cfg.ref_year if cfg.ref_year is not None else max(data_years)
    if year not in data_years:
        raise InputError(
            f"config/resilience.yaml: sleutel 'year': {year} heeft geen gegevens voor buurten "
            f"(beschikbaar: {data_years})"
        )
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
