"""Shared figure habits: every figure carries its sources and origin; synthetic input is stamped."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

SYNTHETIC_STAMP = "SYNTHETISCHE INVOER: methodedemonstratie, geen echte cijfers"
KLASSE_KLEUR = {"rood": "#c0392b", "oranje": "#e67e22", "groen": "#27ae60", "onvoldoende data": "#bdbdbd"}
# resilience v2 signal classes ("geen signaal" is not "good": a neutral light colour, not green)
SIGNAAL_KLEUR = {
    "signaal": "#b2182b",
    "aandacht": "#ef8a62",
    "geen signaal": "#d1e5f0",
    "onvoldoende data": "#bdbdbd",
}

sns.set_theme(style="whitegrid", context="notebook")


def source_entries(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(source table, 'years[, voorlopig: ...]', origin) for each source in long-format ``rows``."""
    out = []
    for (table, origin), g in rows.groupby(["source_table", "origin"], sort=True):
        years = sorted(g["year"].unique())
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
        py = sorted(g.loc[g["provisional"].astype(bool), "year"].unique())
        prov = f", voorlopig: {', '.join(str(y) for y in py)}" if py else ""
        out.append((str(table), span + prov, str(origin)))
    return out


def sources_of(rows: pd.DataFrame) -> str:
    """'table (years[, voorlopig]; origin)' for each source in long-format ``rows``."""
    if rows.empty:
        return "geen gegevens"
    return "; ".join(f"{t} ({span}; herkomst: {o})" for t, span, o in source_entries(rows))


def finish(fig: plt.Figure, caption: str, synthetic: bool, tight: bool = True) -> plt.Figure:
    """Add the source line (and the synthetic stamp) to a figure."""
    text = "Bron: " + caption
    fig.text(0.01, 0.005, text, fontsize=7, color="#444", ha="left", va="bottom", wrap=True)
    if synthetic:
        fig.text(
            0.5,
            0.995,
            SYNTHETIC_STAMP,
            fontsize=9,
            color="white",
            ha="center",
            va="top",
            weight="bold",
            bbox={"facecolor": "#b03a2e", "edgecolor": "none", "pad": 3},
        )
    if tight:
        fig.tight_layout(rect=(0, 0.05, 1, 0.95 if synthetic else 1))
    else:  # fixed margins: one render instead of two (fact sheets)
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.14, top=0.84 if synthetic else 0.88)
    return fig


def save(fig: plt.Figure, path) -> None:
    from analysis.io import write_with

    write_with(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
