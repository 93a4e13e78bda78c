"""Goal figures: the fan chart with calibrated / extrapolated intervals and the scenario lines."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from analysis.config import indicator_catalog
from analysis.figures import finish
from analysis.goals.catalog import Doel
from analysis.goals.forecast import TREND_LABEL

SCENARIO_STYLE = {
    "trend_zet_door": ("scenario: trend zet door", "#636363", ":"),
    "trend_halveert": ("scenario: trend halveert", "#969696", "-."),
    "beste_in_paneel": ("scenario: snelste verbetering in paneel", "#238b45", "--"),
}


def _is_set(v) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v))


def fan_chart(
    goal: Doel, region: str, name: str, row: dict, fc: pd.DataFrame, headline=False, tight: bool = True
) -> plt.Figure:
    """Observations, point forecast, 80%/95% intervals (lighter, right of a dotted line, where the
    interval extrapolates the calibration beyond the observed horizons), scenarios and the target."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    obs = fc[fc["soort"] == "waarneming"]
    pr = fc[fc["soort"] == "prognose"]
    kind = pr["interval_soort"] if "interval_soort" in pr else pd.Series("gekalibreerd", index=pr.index)
    cal = pr[kind == "gekalibreerd"]
    ext = pr[kind == "extrapolatie"]
    if len(cal) and len(ext):  # join the two shaded parts
        ext = pd.concat([cal.tail(1), ext])
    for part, alpha, suffix in ((cal, 0.55, ""), (ext, 0.22, " (extrapolatie)")):
        if part.empty:
            continue
        ax.fill_between(
            part["year"],
            part["lo95"],
            part["hi95"],
            color="#9ecae1",
            alpha=alpha,
            linewidth=0,
            label=f"95%-interval{suffix}",
        )
        ax.fill_between(
            part["year"],
            part["lo80"],
            part["hi80"],
            color="#4292c6",
            alpha=alpha,
            linewidth=0,
            label=f"80%-interval{suffix}",
        )
    if len(ext):  # where the tested horizons end: everything right of this line is extrapolation
        x0 = float(ext["year"].iloc[0])
        ax.axvline(x0, color="#555", linestyle=":", linewidth=1)
        ax.text(
            x0,
            1.0,
            " extrapolatie \u2192",
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            color="#333",
            va="top",
            ha="left",
        )
    ax.plot(pr["year"], pr["waarde"], color="#08519c", linestyle="--", label=f"prognose ({row['model']})")
    if "scenario" in fc:
        for name_s, g in fc[fc["soort"] == "scenario"].groupby("scenario"):
            label, color, ls = SCENARIO_STYLE.get(name_s, (name_s, "#636363", ":"))
            ax.plot(g["year"], g["waarde"], color=color, linestyle=ls, linewidth=1.2, label=label)
    prov = obs["provisional"].fillna(False).astype(bool)
    ax.plot(obs["year"], obs["waarde"], "o-", color="black", label="waarneming")
    if prov.any():
        ax.plot(
            obs.loc[prov, "year"],
            obs.loc[prov, "waarde"],
            "o",
            mfc="white",
            mec="black",
            label="voorlopig / methodebreuk",
        )
    target = row["doelwaarde_berekend"]
    if goal.doeltype == "relatief" and _is_set(row.get("basiswaarde")):
        ax.plot(
            [goal.basisjaar, goal.doeljaar],
            [row["basiswaarde"], target],
            color="#c0392b",
            linewidth=1,
            label="doelpad (lineair)",
        )
    ax.scatter([goal.doeljaar], [target], marker="*", s=160, color="#c0392b", zorder=4, label="doel")
    label = indicator_catalog()[goal.indicator]["label"]
    ylabel = f"{label}:\nverschil met gemeente" if goal.doeltype == "pariteit" else label
    ax.set_ylabel(ylabel, fontsize=8)
    band = row.get("kans_band")
    title = f"{goal.id} {name}: {row['status']}"
    if _is_set(band) and band != "waargenomen":
        title += f"; kans doel gehaald {band}\n({TREND_LABEL})"
    if headline:
        title = "Kopcasus armoede: gemeente Zwijndrecht (niet de focusbuurten)\n" + title
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6.5, loc="best", ncol=2)
    return finish(fig, row["bron"], row["synthetic"], tight=tight)
