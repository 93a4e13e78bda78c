"""Shared parts of the fact-sheet charts (:mod:`analysis.factsheets.charts`): the :class:`Chart`
record, area roles and styles, Dutch number and axis rules, the SVG/table figure and the source caption."""

from __future__ import annotations

import base64
import contextlib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.factsheets.fmt import esc, nl_number, origin_nl, plain  # noqa: E402
from analysis.figures import DutchFormatter, source_entries  # noqa: E402


@dataclass(frozen=True)
class Chart:
    """One chart for a fact sheet.

    ``html``: a complete ``<figure>`` (SVG image with alt text, caption with the sources, collapsed
    "Toon als tabel" table). ``table``: exactly the numbers drawn, one row per drawn point; the HTML
    table shows the same rows and columns (numbers in Dutch notation).
    """

    html: str
    table: pd.DataFrame


# --- styles --------------------------------------------------------------------------------------

ROLE_ORDER = ("gebied", "wijk", "gemeente", "regio", "nederland")
ROLE_NL = {
    "gebied": "dit gebied",
    "wijk": "wijk",
    "gemeente": "gemeente",
    "regio": "regio",
    "nederland": "Nederland",
}
# colour, line style, marker, line width; each role differs in all three carriers
ROLE_STYLE = {
    "gebied": ("#0072B2", "-", "o", 2.4),
    "wijk": ("#D55E00", (0, (5, 2)), "s", 1.6),
    "gemeente": ("#555555", (0, (6, 2, 1.5, 2)), "^", 1.6),
    "regio": ("#AA4499", (0, (9, 3)), "v", 1.4),
    "nederland": ("#000000", (0, (1.2, 1.8)), "D", 1.6),
}
UNIT_DECIMALS = {"%": 1, "aantal": 0, "score": 2, "per 1000": 1, "x 1.000 euro": 0, "klasse": 0}
MAGNITUDE_UNITS = {"%", "aantal", "per 1000", "x 1.000 euro"}
DEFAULT_SCORE_SPAN = 1.0
FLAT_SHARE = 0.05  # a change below 5% of the axis span is "vrijwel gelijk"

SERIES_COLUMNS = [
    "indicator",
    "label",
    "eenheid",
    "rol",
    "gebiedscode",
    "gebied",
    "jaar",
    "waarde",
    "herkomst",
    "voorlopig",
    "bron",
]


def decimals_for(unit: str) -> int:
    return UNIT_DECIMALS.get(unit, 2)


def _nl(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.b."
    s = nl_number(float(value), decimals_for(unit))
    if s.startswith("-"):
        s = "\u2212" + s[1:]
    return s


def _min_spans() -> dict[str, float]:
    from analysis.factsheets.explain import uitleg_catalog

    return {k: float(v["y_min_span"]) for k, v in uitleg_catalog().items() if v.get("y_min_span")}


def y_limits(values: Sequence[float], unit: str, min_span: float | None = None) -> tuple[float, float]:
    """The y-axis range for ``values`` by the rule in the module docstring."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if v.size == 0:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if unit in MAGNITUDE_UNITS and lo >= 0:
        top = hi * 1.08 if hi > 0 else 1.0
        if unit == "%" and hi <= 100:
            top = min(top, 100.0) if hi < 100 else 100.0
        return (0.0, top)
    span = max((hi - lo) * 1.1, min_span or DEFAULT_SCORE_SPAN)
    mid = (lo + hi) / 2
    return (mid - span / 2, mid + span / 2)


def _svg_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "veerkracht"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def table_html(table: pd.DataFrame, unit_column: str | None = "eenheid", unit: str = "") -> str:
    """``table`` as an HTML table, every column and row, numbers in Dutch notation.

    Float cells get the decimals of the row's unit (``unit_column``) or of ``unit``; booleans read
    "ja"/"nee"; missing values "n.b.".
    """
    head = "".join(f"<th scope='col'>{esc(c)}</th>" for c in table.columns)
    rows = []
    role_at = list(table.columns).index("rol") if "rol" in table.columns else None
    for rec in table.itertuples(index=False):
        u = getattr(rec, unit_column) if unit_column and unit_column in table.columns else unit
        cells = []
        for i, v in enumerate(rec):
            if i == role_at and isinstance(v, str):
                v = ROLE_NL.get(v, v)  # the reader's word ("Nederland"), not the role key
            if isinstance(v, bool | np.bool_):
                cells.append(f"<td>{'ja' if v else 'nee'}</td>")
            elif isinstance(v, float | np.floating):
                cells.append(f"<td class='num'>{_nl(float(v), u)}</td>")
            elif isinstance(v, int | np.integer):
                cells.append(f"<td class='num'>{int(v)}</td>")
            elif v is None or (not isinstance(v, str) and pd.isna(v)):
                cells.append("<td>n.b.</td>")
            else:
                cells.append(f"<td>{esc(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<div class='scroll'><table class='grafiektabel'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _figure_html(fig: plt.Figure, alt: str, caption: str, table: pd.DataFrame, **kw) -> str:
    return (
        f'<figure class="grafiek"><img src="{_svg_uri(fig)}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption>"
        f"<details><summary>Toon als tabel</summary>{table_html(table, **kw)}</details></figure>"
    )


_AGGREGATE = re.compile(r"^aggregatie van (\w+): ")


def source_caption(rows: pd.DataFrame) -> str:
    """'Bron: <table> (<years>; <voorlopig ...|definitieve cijfers>; <origin in Dutch>); ...'.

    A figure a wijk or gemeente got by adding up (or weighting) its buurten names the buurten's own
    source once, with one line saying how the larger areas were computed — not the same source
    twice, once with an 'aggregatie van buurten:' prefix."""
    if rows.empty:
        return "Bron: geen gegevens"
    tables = rows["source_table"].astype(str)
    parts_of = sorted({m.group(1) for m in tables.map(_AGGREGATE.match) if m is not None})
    rows = rows.assign(source_table=tables.str.replace(_AGGREGATE, "", regex=True))
    parts = []
    for table, span, origin in source_entries(rows):
        if origin != "synthetic" and "voorlopig" not in span:
            span += ", definitieve cijfers"
        parts.append(f"{plain(table)} ({span}; {origin_nl(origin)})")
    text = "Bron: " + "; ".join(parts)
    if parts_of:
        text += "; cijfers van grotere gebieden berekend uit die van de " + " en de ".join(parts_of)
    return text


def _dutch_axes(ax) -> None:
    ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True, nbins=5))
    ax.xaxis.set_major_formatter(DutchFormatter(year=True))
    ax.yaxis.set_major_locator(mticker.MaxNLocator(nbins=5))
    ax.yaxis.set_major_formatter(DutchFormatter())


# --- time series -----------------------------------------------------------------------------------


# --- reuse between runs --------------------------------------------------------------------------
# A chart is a pure function of its arguments, the y-axis spans of config/indicators_uitleg.yaml,
# matplotlib's settings and the code: rendered once, it is reused from outputs/<GM>/.cache/grafieken
# (analysis.reuse) by every later sheet or run with the same inputs, so a threshold change that
# re-renders every sheet does not redraw its unchanged charts. No store set (tests, a plain
# function call): every chart is drawn.

_STORE: list = []


def use_store(outputs) -> None:
    """Reuse charts under ``outputs/.cache/grafieken`` (None: draw every chart)."""
    from analysis.reuse import Store, cache_root

    _STORE[:] = [Store(None if outputs is None else cache_root(outputs) / "grafieken")]


@contextlib.contextmanager
def store_at(outputs):
    """Charts drawn inside this block are reused from (and stored in) ``outputs``' chart store;
    outside it the store is as before (None: no store)."""
    before = _STORE[:]
    use_store(outputs)
    try:
        yield
    finally:
        _STORE[:] = before


def chart_store():
    from analysis.reuse import Store

    if not _STORE:
        _STORE.append(Store(None))
    return _STORE[0]


def rc_state() -> str:
    """matplotlib's current settings (style, fonts, sizes) as one text: part of every chart's key."""
    return repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items()))
