"""Dutch number formatting and small HTML helpers."""

from __future__ import annotations

import base64
import io
import math
import re
import urllib.parse

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.factsheets.page import esc  # the one escape of every page (defined in the light page module)


def nl_number(value: float | None, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' (Dutch separators); missing -> 'n.b.'."""
    if _missing(value):
        return "n.b."
    s = f"{value:,.{decimals}f}"
    if s.startswith("-") and float(s[1:].replace(",", "")) == 0:
        s = s[1:]  # never "-0,00": a value that rounds to zero has no sign
    s = s.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return MINUS + s[1:] if s.startswith("-") else s  # one minus sign everywhere: U+2212


MINUS = "\u2212"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def fmt_value(value: float | None, unit: str) -> str:
    if unit == "aantal":
        return nl_number(value, 0)
    if unit == "%":
        return "n.b." if _missing(value) else nl_number(value, 1) + "%"
    if unit == "score":
        return nl_number(value, 2)
    if unit == "x 1.000 euro":
        return "n.b." if _missing(value) else "€ " + nl_number(value, 0) + ".000"
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


def samenstelling_nl(text: str) -> str:
    """The composition text of the resilience analysis in correct Dutch ('1 buurten' -> '1 buurt',
    '3 wijk(en)' -> '3 wijken')."""
    text = re.sub(r"\b1 (buurt|wijk)(en|\(en\))", r"1 \1", text)
    return re.sub(r"\b(\d+) (buurt|wijk)\(en\)", r"\1 \2en", text)


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


# CSV downloads: numbers rounded as the page shows them. A column's decimals: a number, or the name
# of the column that holds each row's unit (decimals as :func:`fmt_value`); other numbers get
# the page's bare-number rule (0 decimals from 100, 1 from 1, else 2; whole numbers none).
UNIT_DECIMALS = {"aantal": 0, "%": 1, "score": 2, "x 1.000 euro": 0}
CSV_DECIMALS: dict[str, int | str] = {
    "waarde": "eenheid",
    "prognose": "eenheid",
    "doelwaarde": "eenheid",
    "interval80_laag": "eenheid",
    "interval80_hoog": "eenheid",
    "inwoners": 0,
    "dekking": 2,  # a share 0-1: always two decimals (1,00 and 0,97 alike)
    "ses_woa": 2,
    "laag_inkomen_pct": 1,
    "kans_signaal_of_aandeel_inwoners_met_signaal": 2,
    "benodigd_tempo_pct_per_jaar": 1,
    "waargenomen_tempo_pct_per_jaar": 1,
}
# a text cell starting with one of these is a formula in Excel/LibreOffice (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_year_column(name: str) -> bool:
    return name == "jaar" or (name.endswith("jaar") and not name.endswith("per_jaar"))


def _bare_decimals(v: float) -> int:
    if float(v).is_integer():
        return 0
    return 0 if abs(v) >= 100 else (1 if abs(v) >= 1 else 2)


def _csv_number(v, decimals: int | None) -> str:
    if v is None or isinstance(v, bool) or pd.isna(v):
        return "" if not isinstance(v, bool) else ("ja" if v else "nee")
    d = _bare_decimals(v) if decimals is None else decimals
    return f"{float(v):.{d}f}".replace(".", ",")


def csv_text(value) -> str:
    """A text cell that cannot start a formula: a leading =, +, -, @, tab or CR gets a quote
    (the OWASP advice for CSV injection); the cell still reads as the same text."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cells(df: pd.DataFrame, decimals: dict[str, int | str] | None = None) -> pd.DataFrame:
    """``df`` as the text of a Dutch CSV download: years as whole numbers, numbers rounded as shown
    with a decimal comma, text cells neutralised against formulas, missing values empty."""
    rules = {**CSV_DECIMALS, **(decimals or {})}
    out = {}
    for col in df.columns:
        s, rule = df[col], rules.get(str(col))
        if isinstance(rule, str):
            unit = df[rule] if rule in df.columns else pd.Series(None, index=df.index)
            per_row = [UNIT_DECIMALS.get(u, 1) if isinstance(u, str) else None for u in unit]
        else:
            per_row = [0 if _is_year_column(str(col)) else rule] * len(s)
        cells = []
        for v, d in zip(s.tolist(), per_row, strict=True):
            if isinstance(v, str):
                cells.append(csv_text(v))
            elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
                cells.append(_csv_number(v, d))
            else:
                cells.append("" if v is None or (not isinstance(v, bool) and pd.isna(v)) else csv_text(v))
        out[col] = cells
    return pd.DataFrame(out, columns=df.columns, dtype=object)


def csv_download(df, filename: str, label: str, decimals: dict[str, int | str] | None = None) -> str:
    """A link that downloads ``df`` as CSV from a data URI (the page stays self-contained).

    Dutch spreadsheet conventions: semicolon separator, decimal comma, UTF-8 with byte-order mark
    so Excel shows accents correctly; numbers rounded as shown and years whole (:func:`csv_cells`),
    text cells never a formula.
    """
    cells = csv_cells(pd.DataFrame(df), decimals)
    text = "\ufeff" + cells.to_csv(index=False, sep=";", lineterminator="\r\n")
    href = "data:text/csv;charset=utf-8," + urllib.parse.quote(text)
    return f'<a class="download" download="{esc(filename)}" href="{href}">{esc(label)}</a>'


ORIGIN_NL = {
    "snapshot": "meegeleverde echte publicatie",
    "synthetic": "synthetische invulling",
    "cbs": "CBS",
    "local": "lokaal aangeleverd bestand",
}
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
