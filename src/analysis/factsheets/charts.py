"""Fact-sheet charts a policy adviser can read, print and check: :class:`Chart`.

Every chart is returned as a :class:`Chart`: ``html`` is one complete ``<figure>`` with

* the chart as SVG (vector, text kept as text) in an ``<img>`` with alt text that tells the trend in
  words;
* a ``<figcaption>`` with the sources in plain Dutch: table id, years, provisional years (or
  "definitieve cijfers") and the origin ("meegeleverde echte publicatie" / "synthetische invulling");
* a collapsed ``<details><summary>Toon als tabel</summary>`` holding a table with exactly the numbers
  drawn — the same rows as ``Chart.table``.

Chart rules (each one tested in tests/test_figures.py):

* Dutch numbers on every axis (decimal comma, thousands dot, true minus sign, whole years).
* Each panel has its unit as y-axis label; the title is the indicator's label.
* Reference areas (wijk, gemeente, regio, Nederland) differ by line style AND marker AND colour, and
  one legend above the panels names them; colour is never the only carrier. Palette: Okabe-Ito /
  Tol colours that stay distinct under deuteranopia and protanopia, all with at least 3:1 contrast on
  white except the black Nederland line which is dotted.
* Origins: one line per (area, origin); real and synthetic values are never joined into one line.
  Synthetic series have open markers and "(synthetisch)" in the legend, and the chart carries the red
  synthetic stamp once when any drawn series is synthetic (and only then).
* y-axis rule (no exaggerated noise): for magnitudes that cannot be negative (units ``%``,
  ``aantal``, ``per 1000``, ``x 1.000 euro``) the axis starts at 0. For scores (which can be negative
  or have an arbitrary origin) the axis is centred on the drawn values and spans at least the
  indicator's ``y_min_span`` from ``config/indicators_uitleg.yaml`` (else ``DEFAULT_SCORE_SPAN``), and
  never less than the drawn range plus 10%. A change is called "vrijwel gelijk" in the alt text when it
  is smaller than 5% of the axis span, so the words and the picture agree.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.factsheets.fmt import esc, nl_number, origin_nl, plain, unit_nl  # noqa: E402
from analysis.figures import DutchFormatter, source_entries, stamp  # noqa: E402


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


def series_table(
    rows: pd.DataFrame,
    areas: Mapping[str, str | None],
    names: Mapping[str, str],
    indicators: Sequence[str],
    catalog: Mapping[str, Mapping],
) -> pd.DataFrame:
    """The points a series chart draws, one row each (columns :data:`SERIES_COLUMNS`).

    ``rows``: long indicator rows (region_code, year, indicator, value, source_table, origin,
    provisional). ``areas``: role -> region code, roles from :data:`ROLE_ORDER` (``gebied`` is the
    sheet's area; None skips a role). Rows of other regions or indicators are not drawn.
    """
    recs = []
    for role in ROLE_ORDER:
        code = areas.get(role)
        if not code:
            continue
        mine = rows[(rows["region_code"] == code) & rows["indicator"].isin(indicators)]
        for r in mine.itertuples(index=False):
            spec = catalog.get(r.indicator, {})
            recs.append(
                {
                    "indicator": r.indicator,
                    "label": spec.get("label", r.indicator),
                    "eenheid": spec.get("unit", ""),
                    "rol": role,
                    "gebiedscode": code,
                    "gebied": names.get(code, code),
                    "jaar": int(r.year),
                    "waarde": float(r.value),
                    "herkomst": "synthetisch" if r.origin == "synthetic" else "echt",
                    "voorlopig": bool(r.provisional) if pd.notna(r.provisional) else False,
                    "bron": plain(r.source_table),
                    "_origin": r.origin,
                    "_table": r.source_table,
                }
            )
    out = pd.DataFrame(recs, columns=[*SERIES_COLUMNS, "_origin", "_table"])
    order = {i: n for n, i in enumerate(indicators)}
    roles = {r: n for n, r in enumerate(ROLE_ORDER)}
    out = out.dropna(subset=["waarde"])
    out = out.sort_values(
        ["indicator", "rol", "herkomst", "jaar"],
        key=lambda s: s.map(order) if s.name == "indicator" else s.map(roles) if s.name == "rol" else s,
        kind="stable",
    )
    return out.reset_index(drop=True)


def _legend_label(role: str, name: str, synthetic: bool) -> str:
    who = name if role == "gebied" else f"{ROLE_NL[role]}: {name}" if role != "nederland" else "Nederland"
    return who + (" (synthetisch)" if synthetic else "")


def series_figure(
    table: pd.DataFrame,
    indicators: Sequence[str],
    catalog: Mapping[str, Mapping],
) -> plt.Figure:
    """Draw ``table`` (from :func:`series_table`): one panel per indicator, one line per
    (area, origin). Each line's ``gid`` is ``reeks|<indicator>|<rol>|<code>|<origin>``."""
    spans = _min_spans()
    n = max(len(indicators), 1)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    synth = bool((table["herkomst"] == "synthetisch").any())
    n_legend = len(table.groupby(["rol", "gebiedscode", "herkomst"])) if len(table) else 0
    top_pad = 0.45 + 0.22 * math.ceil(n_legend / 2) + (0.3 if synth else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(8, 2.7 * nrows + top_pad), squeeze=False, sharex=True)
    handles: dict[str, object] = {}
    for ax, ind in zip(axes.flat, indicators, strict=False):
        spec = catalog.get(ind, {})
        unit = spec.get("unit", "")
        t = table[table["indicator"] == ind]
        for (role, code, herkomst), g in t.groupby(["rol", "gebiedscode", "herkomst"], sort=False):
            color, ls, marker, lw = ROLE_STYLE[role]
            synthetic = herkomst == "synthetisch"
            (line,) = ax.plot(
                g["jaar"],
                g["waarde"],
                color=color,
                linestyle=ls,
                marker=marker,
                markersize=4.5 if role != "gebied" else 5.5,
                markerfacecolor="white" if synthetic else color,
                markeredgecolor=color,
                linewidth=lw,
                label=_legend_label(role, str(g["gebied"].iloc[0]), synthetic),
                zorder=3 if role == "gebied" else 2,
            )
            line.set_gid(f"reeks|{ind}|{role}|{code}|{g['_origin'].iloc[0]}")
            handles.setdefault(line.get_label(), line)
        ax.set_ylim(*y_limits(t["waarde"].tolist(), unit, spans.get(ind)))
        # a fixed title position: automatic placement measures every tick label (~30% of the drawing)
        ax.set_title(spec.get("label", ind), fontsize=10, loc="left", y=1.0)
        ax.set_ylabel(unit_nl(unit), fontsize=9)
        ax.tick_params(labelsize=9)
        _dutch_axes(ax)
        if t.empty:
            ax.text(0.5, 0.5, "geen gegevens", ha="center", va="center", transform=ax.transAxes)
    for ax in list(axes.flat)[len(indicators) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.tick_params(labelbottom=True)
    ordered = sorted(handles.items(), key=lambda kv: ROLE_ORDER.index(kv[1].get_gid().split("|")[2]))
    top = 1 - (top_pad / fig.get_figheight())
    if ordered:
        fig.legend(
            [h for _, h in ordered],
            [k for k, _ in ordered],
            loc="upper center",
            bbox_to_anchor=(0.5, 1 - (0.3 if synth else 0.02) / fig.get_figheight()),
            ncol=min(len(ordered), 2),
            fontsize=9,
            frameon=False,
            handlelength=3.2,
        )
    if synth:
        stamp(fig)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.07, top=top, hspace=0.42, wspace=0.25)
    return fig


def _trend_words(table: pd.DataFrame, ind: str, catalog: Mapping, ylim: tuple[float, float]) -> str:
    spec = catalog.get(ind, {})
    unit = spec.get("unit", "")
    label = spec.get("label", ind)
    t = table[table["indicator"] == ind]
    own = t[t["rol"] == "gebied"].sort_values("jaar")
    if own.empty:
        return f"{label}: geen gegevens voor dit gebied"
    last_origin = own["herkomst"].iloc[-1]
    own = own[own["herkomst"] == last_origin]  # one origin: never a change across origins
    first, last = own.iloc[0], own.iloc[-1]
    u = "" if unit in ("aantal", "score", "klasse") else "%" if unit == "%" else f" {unit_nl(unit)}"
    u0 = "%" if unit == "%" else ""
    if len(own) < 2:
        text = f"{label}: {_nl(last['waarde'], unit)}{u} in {last['jaar']}"
    else:
        delta = last["waarde"] - first["waarde"]
        span = ylim[1] - ylim[0]
        word = (
            "vrijwel gelijk gebleven"
            if abs(delta) < FLAT_SHARE * span
            else ("gestegen" if delta > 0 else "gedaald")
        )
        text = (
            f"{label}: {word}, van {_nl(first['waarde'], unit)}{u0} in {first['jaar']} naar "
            f"{_nl(last['waarde'], unit)}{u} in {last['jaar']}"
        )
    refs = []
    for role in ROLE_ORDER[1:]:
        r = t[(t["rol"] == role) & (t["jaar"] == last["jaar"])]
        if len(r):
            who = "Nederland" if role == "nederland" else ROLE_NL[role]
            refs.append(f"{who} {_nl(r['waarde'].iloc[0], unit)}{u0}")
    if refs:
        text += f" ({', '.join(refs)})"
    if last_origin == "synthetisch":
        text += " [synthetisch]"
    return text


def series_chart(
    rows: pd.DataFrame,
    areas: Mapping[str, str | None],
    names: Mapping[str, str],
    indicators: Sequence[str],
    catalog: Mapping[str, Mapping],
    title: str = "Ontwikkeling",
) -> Chart:
    """The "Ontwikkeling" panel of one area: a small time-series chart per indicator.

    Parameters
    ----------
    rows:
        Long indicator rows as in ``data/processed/<GM>/indicators.parquet`` (columns region_code,
        year, indicator, value, source_table, origin, provisional); may hold more regions,
        indicators and years than are drawn (select the years beforehand, e.g. ``year <= peiljaar``).
    areas:
        Role -> region code: ``{"gebied": code, "wijk": wijk_code or None, "gemeente": "GM0642",
        "regio": "DS00" or None, "nederland": "NL00"}``. ``gebied`` is the sheet's own area; the
        others are reference lines, drawn when ``rows`` holds data for them.
    names:
        Region code -> display name (``NL00`` -> "Nederland").
    indicators:
        One panel per indicator, in this order (e.g. ``SERIES_INDICATORS``).
    catalog:
        The indicator catalogue, ``analysis.config.indicator_catalog()`` (label, unit).
    title:
        Heading words used in the alt text.

    Returns a :class:`Chart`; ``Chart.table`` has the columns indicator, label, eenheid, rol,
    gebiedscode, gebied, jaar, waarde, herkomst (echt/synthetisch), voorlopig, bron.
    """
    full = series_table(rows, areas, names, indicators, catalog)
    drawn = full
    fig = series_figure(drawn, indicators, catalog)
    ylims = {ind: ax.get_ylim() for ind, ax in zip(indicators, fig.axes, strict=False)}
    gebied = names.get(areas.get("gebied") or "", areas.get("gebied") or "")
    refs = [
        ("Nederland" if r == "nederland" else ROLE_NL[r])
        for r in ROLE_ORDER[1:]
        if areas.get(r) and (drawn["rol"] == r).any()
    ]
    if drawn.empty:
        alt = f"{title} voor {gebied}: geen tijdreeksen beschikbaar."
    else:
        years = f"{drawn['jaar'].min()}-{drawn['jaar'].max()}"
        alt = (
            f"{title} {years} van {gebied}"
            + (f", met als referentie {', '.join(refs)}" if refs else "")
            + ". "
            + "; ".join(_trend_words(drawn, i, catalog, ylims[i]) for i in indicators)
            + "."
        )
    src = drawn.rename(
        columns={"_table": "source_table", "_origin": "origin", "jaar": "year", "voorlopig": "provisional"}
    )
    caption = source_caption(src[["source_table", "origin", "year", "provisional"]])
    caption += (
        ". Verticale as vanaf 0 voor aantallen, percentages en bedragen; scores op een vaste minimale "
        "schaal. Open symbolen: synthetische invulling."
        if (drawn["herkomst"] == "synthetisch").any()
        else ". Verticale as vanaf 0 voor aantallen, percentages en bedragen; scores op een vaste "
        "minimale schaal."
    )
    table = drawn[SERIES_COLUMNS].reset_index(drop=True)
    return Chart(html=_figure_html(fig, alt, caption, table), table=table)


# --- fan chart ------------------------------------------------------------------------------------

FAN_COLUMNS = [
    "reeks",
    "jaar",
    "waarde",
    "ondergrens_80",
    "bovengrens_80",
    "ondergrens_95",
    "bovengrens_95",
    "interval",
    "voorlopig",
    "eenheid",
]


def fan_table(goal, row: Mapping, fc: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The numbers a fan chart draws: observations, forecast with 80%/95% bands, scenarios, the
    linear goal path (relative goals with a base value) and the target."""
    recs = []

    def add(reeks, jaar, waarde, lo80=np.nan, hi80=np.nan, lo95=np.nan, hi95=np.nan, kind="", prov=False):
        recs.append(
            {
                "reeks": reeks,
                "jaar": int(jaar),
                "waarde": float(waarde),
                "ondergrens_80": float(lo80),
                "bovengrens_80": float(hi80),
                "ondergrens_95": float(lo95),
                "bovengrens_95": float(hi95),
                "interval": kind if isinstance(kind, str) else "",
                "voorlopig": bool(prov),
                "eenheid": unit,
            }
        )

    for r in fc[fc["soort"] == "waarneming"].sort_values("year").itertuples():
        add("waarneming", r.year, r.waarde, prov=bool(r.provisional) if pd.notna(r.provisional) else False)
    for r in fc[fc["soort"] == "prognose"].sort_values("year").itertuples():
        kind = getattr(r, "interval_soort", "gekalibreerd")
        add("prognose", r.year, r.waarde, r.lo80, r.hi80, r.lo95, r.hi95, kind if pd.notna(kind) else "")
    for r in fc[fc["soort"] == "vergelijking"].sort_values("year").itertuples():
        add("ter vergelijking: drift", r.year, r.waarde)
    if "scenario" in fc:
        from analysis.goals.figures import SCENARIO_STYLE

        for name, g in fc[fc["soort"] == "scenario"].groupby("scenario", sort=True):
            label = SCENARIO_STYLE.get(name, (name,))[0]
            for r in g.sort_values("year").itertuples():
                add(label, r.year, r.waarde)
    target = row.get("doelwaarde_berekend")
    base = row.get("basiswaarde")
    if goal.doeltype == "relatief" and base is not None and pd.notna(base) and pd.notna(target):
        add("doelpad (lineair)", goal.basisjaar, base)
        add("doelpad (lineair)", goal.doeljaar, target)
    if target is not None and pd.notna(target):
        add("doel", goal.doeljaar, target)
    return pd.DataFrame(recs, columns=FAN_COLUMNS)


def fan_chart_html(
    goal,
    region: str,
    name: str,
    row: Mapping,
    fc: pd.DataFrame,
    catalog: Mapping[str, Mapping] | None = None,
    headline: bool = False,
) -> Chart:
    """A goal's fan chart as a :class:`Chart`.

    ``goal``: the :class:`analysis.goals.catalog.Doel`; ``region``/``name``: area code and name;
    ``row``: the goal's row of ``outputs/<GM>/goals/status.parquet`` as a dict; ``fc``: its rows of
    ``prognoses.parquet`` (one goal, one region); ``catalog``: indicator catalogue (default
    ``indicator_catalog()``) for the unit; ``headline``: the municipal poverty headline title.
    The source goes in the caption (not in the image), so no label can overlap it.
    ``Chart.table`` columns: reeks, jaar, waarde, ondergrens/bovengrens 80 and 95, interval
    (gekalibreerd/extrapolatie), voorlopig, eenheid.
    """
    from analysis.config import indicator_catalog
    from analysis.goals.figures import fan_chart

    catalog = catalog if catalog is not None else indicator_catalog()
    unit = catalog.get(goal.indicator, {}).get("unit", "")
    if goal.doeltype == "pariteit":
        unit_txt = f"verschil met gemeente ({unit_nl(unit)})"
    else:
        unit_txt = unit_nl(unit)
    table = fan_table(goal, row, fc, unit)
    fig = fan_chart(goal, region, name, dict(row), fc, headline=headline, source=False)
    obs = table[table["reeks"] == "waarneming"]
    pr = table[table["reeks"] == "prognose"]
    alt = f"Waaiergrafiek voor doel {goal.id} in {name}"
    if len(obs):
        alt += (
            f": waarnemingen {obs['jaar'].min()}-{obs['jaar'].max()}, laatste "
            f"{_nl(obs['waarde'].iloc[-1], unit)} in {obs['jaar'].iloc[-1]}"
        )
    if len(pr):
        last = pr.iloc[-1]
        alt += (
            f"; prognose {last['jaar']}: {_nl(last['waarde'], unit)} (80%-interval "
            f"{_nl(last['ondergrens_80'], unit)} tot {_nl(last['bovengrens_80'], unit)}, "
            f"{last['interval'] or 'gekalibreerd'})"
        )
    doel = table[table["reeks"] == "doel"]
    if len(doel):
        alt += f"; doel {_nl(doel['waarde'].iloc[0], unit)} in {doel['jaar'].iloc[0]}"
    alt += f"; status {row.get('status', 'n.b.')}"
    band = row.get("kans_band")
    if isinstance(band, str) and band:
        alt += f", kans gehaald {band} ({row.get('kans_betekenis', '')})"
    alt += "."
    bron = plain(row.get("bron", "") or "onbekend")
    extra = []
    if not row.get("synthetic") and "voorlopig" not in bron:
        extra.append("definitieve cijfers")
    if "herkomst" not in bron:
        extra.append(
            "herkomst: "
            + ("synthetische invulling" if row.get("synthetic") else "meegeleverde echte publicatie")
        )
    caption = f"Bron: {bron}" + (f"; {'; '.join(extra)}" if extra else "") + f". Eenheid: {unit_txt}."
    return Chart(html=_figure_html(fig, alt, caption, table), table=table)
