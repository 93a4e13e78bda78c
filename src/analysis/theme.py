"""The figure theme of every chart: seaborn's ``set_theme(style="whitegrid", context="notebook")``
applied without importing seaborn.

seaborn imports scipy.stats on import (~0.8 CPU-s), and every fact-sheet kernel and every
``veerkracht`` subprocess would pay that for nothing but these rcParams: no figure of ours draws
with seaborn. The values below are the ones seaborn 0.13.2 sets (the version in requirements.lock);
tests/test_imports.py compares them with ``seaborn.set_theme`` itself, so a seaborn upgrade that
changes its theme fails that test instead of changing the charts silently.

One deliberate difference: seaborn also sets ``image.cmap`` to its own colormap "rocket", which
exists only once seaborn is imported; here the matplotlib default stays (every colormap in this
project is named where it is used).
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

# seaborn.plotting_context("notebook")
_CONTEXT = {
    "axes.linewidth": 1.25,
    "grid.linewidth": 1,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "patch.linewidth": 1,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "font.size": 12,
    "axes.labelsize": 12,
    "axes.titlesize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 12,
}
# seaborn.axes_style("whitegrid", rc={"font.family": "sans-serif"}) without "image.cmap"
_STYLE = {
    "figure.facecolor": "white",
    "axes.labelcolor": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "axes.axisbelow": True,
    "grid.linestyle": "-",
    "text.color": ".15",
    "font.family": "sans-serif",
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "xtick.top": False,
    "ytick.right": False,
    "axes.grid": True,
    "axes.facecolor": "white",
    "axes.edgecolor": ".8",
    "grid.color": ".8",
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "xtick.bottom": False,
    "ytick.left": False,
}
# seaborn's "deep" palette (the colour cycle) and "deep6" + dark grey (the colour codes b, g, r, ...)
DEEP = (
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
)
_DEEP6 = ("#4C72B0", "#55A868", "#C44E52", "#8172B3", "#CCB974", "#64B5CD")
_CODES = dict(zip("bgrmyck", [*_DEEP6, (0.1, 0.1, 0.1)], strict=True))


def apply_theme() -> None:
    """Set the theme on matplotlib's global state, in seaborn's order: context, style, palette,
    colour codes (the codes live outside rcParams, so ``rcdefaults`` keeps them)."""
    to_rgb = mpl.colors.to_rgb
    mpl.rcParams.update(_CONTEXT)
    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler("color", [to_rgb(c) for c in DEEP])
    for code, color in _CODES.items():
        mpl.colors.colorConverter.colors[code] = mpl.colors.colorConverter.to_rgb(color)
