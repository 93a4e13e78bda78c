"""Dutch number formatting and small HTML helpers."""

from __future__ import annotations

import base64
import html
import io
import math
import re
import urllib.parse

import matplotlib.pyplot as plt


def nl_number(value: float | None, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' (Dutch separators); missing -> 'n.b.'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.b."
    s = f"{value:,.{decimals}f}"
    return s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")


def fmt_value(value: float | None, unit: str) -> str:
    if unit == "aantal":
        return nl_number(value, 0)
    if unit == "%":
        return nl_number(value, 1) + "%" if value is not None else "n.b."
    if unit == "score":
        return nl_number(value, 2)
    if unit == "x 1.000 euro":
        return "€ " + nl_number(value, 0) + ".000" if value is not None and not math.isnan(value) else "n.b."
    return nl_number(value, 1)


UNIT_NL = {
    "%": "%",
    "aantal": "aantal",
    "score": "score",
    "per 1000": "per 1.000 inwoners",
    "x 1.000 euro": "× € 1.000",
    "klasse": "klasse",
}


def unit_nl(unit: str) -> str:
    """The unit as a reader writes it ('per 1000' -> 'per 1.000 inwoners')."""
    return UNIT_NL.get(unit, unit)


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def unit_words(indicator_label: str, unit: str) -> str:
    """The unit as words after a number: 'per 1000' -> 'per 1.000 inwoners', a count -> its noun.

    ``''`` for units :func:`fmt_value` already writes into the number ('%', euro)."""
    if unit in ("%", "x 1.000 euro"):
        return ""
    if unit == "per 1000":
        return "per 1.000 inwoners"
    if unit == "score":
        return "punten"
    if unit == "klasse":
        return ""
    label = indicator_label.lower()
    for noun in ("huishoudens", "kinderen", "personen", "misdrijven", "inwoners", "woningen"):
        if noun in label:
            return noun
    return ""


def with_unit(value: float | None, unit: str, label: str, difference: bool = False) -> str:
    """A number with its unit in words: '3,2 per 1.000 inwoners', '649 huishoudens', '42,2%'.

    ``difference``: the value is a gap to a reference (a parity goal), so a sign is written and a
    percentage becomes 'procentpunt'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n.b."
    if difference and unit == "%":
        txt = nl_number(value, 1) + " procentpunt"
    else:
        txt = fmt_value(value, unit)
        words = unit_words(label, unit)
        txt = f"{txt} {words}" if words else txt
    if difference and value > 0:
        txt = "+" + txt
    return txt.replace("-", "−", 1) if txt.startswith("-") else txt


def badge(text: str, kind: str) -> str:
    return f'<span class="badge badge-{esc(kind)}">{esc(text)}</span>'


SYNTH_BADGE = (
    '<span class="badge badge-synthetic" title="synthetische invulling, geen echt cijfer">synthetisch</span>'
)


def figure_html(fig: plt.Figure, alt: str, caption: str, fmt: str = "svg") -> str:
    """Figure embedded as data URI with real alt text and a caption that carries the sources.

    Charts are SVG (vector: sharp on a phone and in print, text kept as text, Dutch tick labels);
    ``fmt="png"`` is for figures built on a raster (the locator map's pre-rendered base map).
    """
    from analysis.figures import dutch_ticks

    dutch_ticks(fig)
    buf = io.BytesIO()
    if fmt == "svg":
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "veerkracht"}):
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        mime = "image/svg+xml"
    else:
        fig.savefig(buf, format="png", dpi=96, metadata={"Software": None})  # basemap raster matches
        mime = "image/png"
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure><img src="data:{mime};base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def csv_download(df, filename: str, label: str) -> str:
    """A link that downloads ``df`` as CSV from a data URI (the page stays self-contained).

    Dutch spreadsheet conventions: semicolon separator, decimal comma, UTF-8 with byte-order mark
    so Excel shows accents correctly.
    """
    text = "\ufeff" + df.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    href = "data:text/csv;charset=utf-8," + urllib.parse.quote(text)
    return f'<a class="download" download="{esc(filename)}" href="{href}">{esc(label)}</a>'


ORIGIN_NL = {"snapshot": "meegeleverde echte publicatie", "synthetic": "synthetische invulling", "cbs": "CBS"}
_MODULE = re.compile(r"\s*\(analysis\.[\w.]+(?:,\s*seed\s+\d+)?\)")
_HERKOMST = re.compile(r"herkomst:?\s+([a-z_]+(?:\s*,\s*[a-z_]+)*)")
MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def origin_nl(origin: str) -> str:
    """'snapshot' -> 'meegeleverde echte publicatie', 'synthetic' -> 'synthetische invulling'."""
    return ", ".join(ORIGIN_NL.get(o.strip(), o.strip()) for o in str(origin).split(","))


def plain(text: str) -> str:
    """A source line in words a policy adviser reads: no module names, seeds or English origin codes.

    'synthetisch (analysis.sources.synthetic, seed 1) (2013-2024; herkomst: synthetic)'
    -> 'synthetisch (2013-2024; herkomst: synthetische invulling)'."""
    text = _MODULE.sub("", str(text))
    return _HERKOMST.sub(lambda m: "herkomst: " + origin_nl(m.group(1)), text)


def dutch_date(stamp: str) -> str:
    """'2026-11-29T14:45:59+00:00' -> '29 november 2026' (unparseable -> 'onbekend')."""
    from datetime import datetime

    try:
        d = datetime.fromisoformat(str(stamp))
    except ValueError:
        return "onbekend"
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"
