"""`veerkracht resilience`: compute and write outputs/resilience/."""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.config import Paths, settings
from analysis.figures import KLASSE_KLEUR, finish, save, sources_of
from analysis.io import write_json, write_table
from analysis.processed.build import load_indicators, load_regions
from analysis.resilience.analysis import (
    ResilienceResult,
    compute,
    sensitivity,
    validate_against_focus,
)
from analysis.resilience.index import IndexConfig


def _caption(ind: pd.DataFrame, res: ResilienceResult) -> str:
    rows = ind[
        ind["indicator"].isin(res.indicators_used) & ind["year"].isin(res.years) & (ind["level"] == "buurt")
    ]
    return (
        sources_of(rows) + "; kaart: CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK); "
        "index: analysis.resilience (docs/methode_veerkracht.md)"
    )


def map_figure(regions: gpd.GeoDataFrame, res: ResilienceResult, caption: str) -> plt.Figure:
    b = regions[regions["level"] == "buurt"].merge(
        res.scores[["region_code", "index", "klasse"]], on="region_code", how="left"
    )
    focus = regions[regions["level"] == "focusgebied"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.4))
    b.plot(
        column="index",
        cmap="RdYlGn_r",
        ax=axes[0],
        legend=True,
        vmin=-2,
        vmax=2,
        missing_kwds={"color": "#eeeeee", "hatch": "///", "label": "geen score (klein of geen data)"},
        legend_kwds={"label": "veerkrachtindex (hoger = kwetsbaarder)", "shrink": 0.6},
    )
    b.assign(kleur=b["klasse"].map(KLASSE_KLEUR).fillna("#eeeeee")).plot(
        color=b["klasse"].map(KLASSE_KLEUR).fillna("#eeeeee"), ax=axes[1], edgecolor="white", linewidth=0.3
    )
    for ax, title in zip(axes, [f"Veerkrachtindex {res.year}", f"Signaalklasse {res.year}"], strict=True):
        if len(focus):  # only the programme's municipality has focus areas
            focus.boundary.plot(ax=ax, color="black", linewidth=1.2)
        ax.set_title(title)
        ax.set_axis_off()
    from matplotlib.patches import Patch

    handles = [Patch(color=c, label=k) for k, c in KLASSE_KLEUR.items()]
    if len(focus):
        handles.append(Patch(facecolor="none", edgecolor="black", label="focusbuurt (programma)"))
    axes[1].legend(handles=handles, loc="lower left", fontsize=8)
    return finish(fig, caption, res.synthetic)


def ranked_figure(res: ResilienceResult, sens: pd.DataFrame, caption: str) -> plt.Figure:
    d = res.scores[res.scores["level"] == "buurt"].merge(sens, on="region_code")
    d = d.dropna(subset=["index"]).sort_values("index", ascending=True)
    fig, ax = plt.subplots(figsize=(8, max(6, 0.17 * len(d))))
    y = np.arange(len(d))
    ax.hlines(
        y,
        d["index_p05"],
        d["index_p95"],
        color="#999",
        linewidth=2,
        label="5-95% over gewichten en indicatorsets",
    )
    ax.scatter(d["index"], y, c=d["klasse"].map(KLASSE_KLEUR), zorder=3, s=22, label="basisindex")
    labels = [
        f"{n}{' *' if isinstance(f, str) else ''}" for n, f in zip(d["name"], d["focusgebied"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=7)
    ax.axvline(res.scores.attrs.get("rood", 1.0), color=KLASSE_KLEUR["rood"], linestyle="--", linewidth=1)
    ax.set_xlabel("veerkrachtindex (hoger = kwetsbaarder); * = focusbuurt")
    ax.set_title(f"Buurten gerangschikt, {res.year}")
    ax.legend(loc="lower right", fontsize=8)
    return finish(fig, caption, res.synthetic)


def run(paths: Paths, n_sim: int | None = None) -> dict:
    cfg = IndexConfig.load()
    ind, regions = load_indicators(paths), load_regions(paths)
    res = compute(ind, regions, cfg, int(settings()["min_inwoners"]), paths.gemeente)
    res.scores.attrs["rood"] = cfg.rood
    if (regions["level"] == "focusgebied").any():
        metrics, disagreements = validate_against_focus(res)
    else:  # no programme focus areas to validate against (municipality other than the programme's)
        metrics, disagreements = validate_against_focus(res)
        metrics = {
            "year": res.year,
            "n_buurten": metrics["n_buurten"],
            "n_rood": metrics["n_rood"],
            "synthetic_inputs": res.synthetic,
            "status": "geen focusgebieden/programmadoelen voor deze gemeente: geen validatie",
        }
        disagreements = disagreements.iloc[0:0]
    sens, sens_summary = sensitivity(res, cfg, n_sim)
    out = paths.outputs / "resilience"
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "scores", res.scores)
    write_table(
        out / "klassen",
        res.scores[
            ["region_code", "name", "level", "focusgebied", "year", "index", "klasse", "synthetic_inputs"]
        ],
    )
    write_table(out / "bijdragen", res.contributions.assign(synthetic_inputs=res.synthetic))
    write_table(out / "uitgesloten", res.excluded.assign(synthetic_inputs=res.synthetic))
    write_table(out / "validatie_verschillen", disagreements)
    write_table(out / "gevoeligheid", sens)
    write_json(
        out / "validatie.json",
        {
            **metrics,
            "indicators_used": res.indicators_used,
            "indicators_missing": res.indicators_missing,
            "sensitivity": sens_summary,
            "years": res.years,
        },
    )
    caption = _caption(ind, res)
    save(map_figure(regions, res, caption), out / "kaart_index_klasse.png")
    save(ranked_figure(res, sens, caption), out / "rangorde_onzekerheid.png")
    n_scored = int(res.scores.loc[res.scores["level"] == "buurt", "index"].notna().sum())
    return {
        "dir": out,
        "n_scored": n_scored,
        "n_excluded": len(res.excluded),
        "synthetic_indicators": sorted(
            ind.loc[
                (ind["origin"] == "synthetic") & ind["indicator"].isin(res.indicators_used), "indicator"
            ].unique()
        ),
    }
