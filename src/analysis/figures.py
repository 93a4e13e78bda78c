"""Shared figure habits: every figure carries its sources and origin; synthetic input is stamped."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.theme import apply_theme  # noqa: E402

SYNTHETIC_STAMP = "SYNTHETISCHE INVOER: methodedemonstratie, geen echte cijfers"
# Resilience v2 signal classes, Okabe-Ito based (vermillion / orange stay distinguishable under
# deuteranopia and protanopia); "geen signaal" is not "good": a neutral light blue, not green.
SIGNAAL_KLEUR = {
    "signaal": "#d55e00",
    "aandacht": "#e69f00",
    "geen signaal": "#cfe3f0",
    "onvoldoende data": "#bdbdbd",
}
# ... and a hatch per class, so colour is never the only carrier (maps, legends): dense cross-hatch =
# signaal, diagonal = aandacht, none = geen signaal, dots = onvoldoende data.
SIGNAAL_ARCERING = {
    "signaal": "xxx",
    "aandacht": "///",
    "geen signaal": "",
    "onvoldoende data": "..",
}

# ... and a marker shape per class for scatter plots: triangle = signaal, diamond = aandacht,
# circle = geen signaal, square = onvoldoende data.
SIGNAAL_MARKER = {
    "signaal": "^",
    "aandacht": "D",
    "geen signaal": "o",
    "onvoldoende data": "s",
}

apply_theme()  # seaborn's whitegrid/notebook theme, without importing seaborn (analysis.theme)


class DutchFormatter(mticker.Formatter):
    """Tick labels in Dutch notation: decimal comma, thousands dot, true minus sign.

    The number of decimals follows the tick spacing (0,25 steps give two decimals), so an axis never
    shows more digits than its ticks carry. ``year=True`` prints whole years without a thousands dot.
    """

    def __init__(self, year: bool = False):
        self.year = year
        self._ticks: list[float] = []

    def set_locs(self, locs) -> None:
        self._ticks = [float(v) for v in locs]

    def _decimals(self) -> int:
        locs = [v for v in self._ticks if np.isfinite(v)]
        for d in range(0, 5):
            if all(abs(round(v, d) - v) <= 1e-9 * max(1.0, abs(v)) for v in locs):
                return d
        return 4

    def __call__(self, x, pos=None) -> str:
        if self.year and abs(x - round(x)) < 1e-9:
            return str(int(round(x)))
        d = self._decimals()
        if d == 0 and abs(x) < 0.5:
            x = 0.0
        s = f"{abs(x):,.{d}f}".replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
        return ("\u2212" if x < 0 and s.strip("0,.") else "") + s


def dutch_ticks(fig: plt.Figure) -> plt.Figure:
    """Put Dutch tick labels on every linear axis that still has matplotlib's default formatter.

    An x-axis whose view lies within 1900-2100 is treated as a year axis: whole years only, no
    thousands dot. Custom formatters (percentages, dates, log axes) are left alone.
    """
    for ax in fig.axes:
        if not ax.axison or ax.name != "rectilinear":
            continue
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() != "linear":
                continue
            if not isinstance(axis.get_major_formatter(), mticker.ScalarFormatter):
                continue
            lo, hi = sorted(axis.get_view_interval())
            year = axis is ax.xaxis and 1900 <= lo and hi <= 2100
            if year:
                axis.set_major_locator(mticker.MaxNLocator(integer=True))
            axis.set_major_formatter(DutchFormatter(year=year))
    return fig


def source_entries(rows: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(source table, 'years[, voorlopig: ...]', origin) for each source in long-format ``rows``."""
    fast = _plain_source_entries(rows)
    if fast is not None:
        return fast
    out = []
    for (table, origin), g in rows.groupby(["source_table", "origin"], sort=True):
        years = sorted(g["year"].unique())
        span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
        py = sorted(g.loc[g["provisional"].astype(bool), "year"].unique())
        prov = f", voorlopig: {', '.join(str(y) for y in py)}" if py else ""
        out.append((str(table), span + prov, str(origin)))
    return out


def _plain_source_entries(rows: pd.DataFrame) -> list[tuple[str, str, str]] | None:
    """:func:`source_entries` without a groupby, for the common case (text keys, no missing key,
    whole years, boolean provisional flags): a goal series asks this ~100 times per run. None for
    any other input (then the groupby decides)."""
    year, prov, keys = rows["year"].dtype, rows["provisional"].dtype, (rows["source_table"], rows["origin"])
    if not (isinstance(year, np.dtype) and year.kind in "iu" and prov == np.dtype(bool)):
        return None  # e.g. nullable or float years, missing or non-boolean flags
    if not all(k.dtype == object or isinstance(k.dtype, pd.StringDtype) for k in keys):
        return None  # e.g. categorical keys: the groupby sorts them by category order
    tables, origins = rows["source_table"].tolist(), rows["origin"].tolist()
    if not all(type(v) is str for v in (*tables, *origins)):
        return None
    groups: dict[tuple[str, str], tuple[set, set]] = {}
    for t, o, y, p in zip(tables, origins, rows["year"].tolist(), rows["provisional"].tolist(), strict=True):
        years, prov = groups.setdefault((t, o), (set(), set()))
        years.add(y)
        if p:
            prov.add(y)
    out = []
    for (table, origin), (years, prov) in sorted(groups.items()):
        ys, py = sorted(years), sorted(prov)
        span = f"{ys[0]}" if len(ys) == 1 else f"{ys[0]}-{ys[-1]}"
        out.append((table, span + (f", voorlopig: {', '.join(str(y) for y in py)}" if py else ""), origin))
    return out


def sources_of(rows: pd.DataFrame) -> str:
    """'table (years[, voorlopig]; origin)' for each source in long-format ``rows``."""
    if rows.empty:
        return "geen gegevens"
    return "; ".join(f"{t} ({span}; herkomst: {o})" for t, span, o in source_entries(rows))


def stamp(fig: plt.Figure) -> None:
    """The red synthetic-input stamp, once, at the top of ``fig`` (SVG group id ``synthetisch-stempel``)."""
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
        gid="synthetisch-stempel",
    )


def finish(fig: plt.Figure, caption: str, synthetic: bool, tight: bool = True) -> plt.Figure:
    """Add the source line (and the synthetic stamp) to a figure."""
    text = "Bron: " + caption
    fig.text(0.01, 0.005, text, fontsize=7, color="#444", ha="left", va="bottom", wrap=True)
    if synthetic:
        stamp(fig)
    if tight:
        fig.tight_layout(rect=(0, 0.05, 1, 0.95 if synthetic else 1))
    else:  # fixed margins: one render instead of two (fact sheets)
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.14, top=0.84 if synthetic else 0.88)
    return fig


def save(fig: plt.Figure, path) -> None:
    from analysis.io import write_with

    dutch_ticks(fig)
    write_with(path, lambda p: fig.savefig(p, format="png", dpi=110))
    plt.close(fig)
