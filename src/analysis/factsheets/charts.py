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

import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.factsheets.chart_base import (  # noqa: E402, F401 (re-exported)
    _AGGREGATE,
    DEFAULT_SCORE_SPAN,
    FLAT_SHARE,
    MAGNITUDE_UNITS,
    ROLE_NL,
    ROLE_ORDER,
    ROLE_STYLE,
    SERIES_COLUMNS,
    UNIT_DECIMALS,
    Chart,
    _dutch_axes,
    _figure_html,
    _min_spans,
    _nl,
    _svg_uri,
    chart_store,
    decimals_for,
    rc_state,
    source_caption,
    table_html,
    y_limits,
)
from analysis.factsheets.fmt import plain, unit_nl  # noqa: E402
from analysis.figures import stamp  # noqa: E402


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
    """:func:`draw_series_chart`, reused from the chart store when drawn before with the same
    inputs (chart_base.use_store)."""
    parts = (rows, dict(areas), dict(names), list(indicators), catalog, title, _min_spans(), rc_state())
    return chart_store().get_or_make(
        "reeks", parts, lambda: draw_series_chart(rows, areas, names, indicators, catalog, title)
    )


def draw_series_chart(
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


from analysis.factsheets.fan_chart import FAN_COLUMNS, fan_chart_html, fan_table  # noqa: E402, F401
