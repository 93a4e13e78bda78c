"""Goal figures: the fan chart with calibrated / extrapolated intervals and the scenario lines."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import pandas as pd

from analysis.config import indicator_catalog
from analysis.figures import DutchFormatter, stamp
from analysis.goals.catalog import Doel
from analysis.goals.labels import TREND_LABEL

UNIT_NL = {"per 1000": "per 1.000 inwoners", "x 1.000 euro": "× € 1.000"}
SCENARIO_STYLE = {
    "trend_zet_door": ("scenario: trend zet door", "#636363", ":"),
    "trend_halveert": ("scenario: trend halveert", "#969696", "-."),
    "beste_in_paneel": ("scenario: snelste verbetering in paneel", "#238b45", "--"),
}


def _is_set(v) -> bool:
    return v is not None and not (isinstance(v, float) and pd.isna(v))


def fan_chart(
    goal: Doel,
    region: str,
    name: str,
    row: dict,
    fc: pd.DataFrame,
    headline=False,
    tight: bool = True,
    source: bool = True,
) -> plt.Figure:
    """Observations, point forecast, 80%/95% intervals (lighter, right of a dotted line, where the
    interval extrapolates the calibration beyond the observed horizons), scenarios and the target.

    Layout: the legend sits below the plot (never over the data), the source line below the legend
    with its own reserved height (never under a label); ``source=False`` leaves the source out (the
    fact sheet puts it in the HTML caption). Dutch ticks; the y-label carries the unit. ``tight`` is
    kept for callers and ignored: the layout is fixed (one render).
    """
    fig, ax = plt.subplots(figsize=(8, 5.8))
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
    comp = fc[fc["soort"] == "vergelijking"]
    if len(comp):  # drift beside the naive point forecast, where the panel cannot tell them apart
        ax.plot(
            comp["year"],
            comp["waarde"],
            color="#6a51a3",
            linestyle=(0, (5, 2)),
            linewidth=1.1,
            label="ter vergelijking: drift",
        )
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
    spec = indicator_catalog()[goal.indicator]
    unit = UNIT_NL.get(spec["unit"], spec["unit"])
    label = spec["label"]
    label = label.replace(f" ({unit})", "")  # the unit is added once, below
    wrapped = "\n".join(textwrap.wrap(label, 38))
    if goal.doeltype == "pariteit":
        ylabel = f"{wrapped}:\nverschil met gemeente ({unit})"
    else:
        ylabel = f"{wrapped}\n({unit})"
    ax.set_ylabel(ylabel, fontsize=8)
    if spec["unit"] in ("%", "aantal", "per 1000", "x 1.000 euro") and goal.doeltype != "pariteit":
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))  # magnitudes from 0: no exaggerated noise
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(DutchFormatter(year=True))
    ax.yaxis.set_major_formatter(DutchFormatter())
    band = row.get("kans_band")
    title = f"{goal.id} {name}: {row['status']}"
    if _is_set(band) and band != "waargenomen":
        title += f"; kans doel gehaald {band}\n({TREND_LABEL})"
    if headline:
        title = "Kernvoorbeeld armoede: gemeente Zwijndrecht (niet de focusbuurten)\n" + title
    ax.set_title(title, fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    rows = -(-len(labels) // 3)
    caption = textwrap.wrap("Bron: " + str(row["bron"]), 125) if source else []
    h = fig.get_figheight()
    # inches from the bottom: source lines, legend rows, tick labels; title lines at the top
    src_in = 0.06 + 0.13 * len(caption)
    legend_in = 0.2 + 0.17 * rows
    bottom = (src_in + legend_in + 0.3) / h
    n_title = title.count("\n") + 1
    top = 1 - (0.12 + 0.17 * n_title + (0.25 if row["synthetic"] else 0)) / h
    fig.subplots_adjust(left=0.15, right=0.97, bottom=bottom, top=top)
    fig.legend(
        handles,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, src_in / h),
        ncol=3,
        fontsize=7.5,
        frameon=False,
    )
    if caption:
        fig.text(0.01, 0.01, "\n".join(caption), fontsize=7, color="#444", ha="left", va="bottom")
    if row["synthetic"]:
        stamp(fig)
    return fig
