"""Reading partners' tables as they are really sent: CSV/TXT (any of ; , tab), XLSX and Parquet.

Every cell is returned as text, with the file's own line (CSV) or row (XLSX) number, so a later check
can name the line and column of a bad value. Text files are decoded by content: UTF-16 (Excel's
"Unicode-tekst", with or without BOM), UTF-8 with or without BOM, else Windows-1252.

Numbers are parsed strictly (:func:`parse_number`): a decimal comma or point, a thousands separator
only in its proper place, and nothing else. A cut-off value such as ``0,`` is not a number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.errors import InputError

TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
SUFFIXES = (*TEXT_SUFFIXES, ".xlsx", ".parquet")
# cells that mean "no value" with a reason (case-insensitive); "<N" is handled by pattern
MARKERS = {
    "": "leeg",
    ".": ".",
    "x": "x",
    "n.v.t.": "n.v.t.",
    "nvt": "n.v.t.",
    "na": "NA",
    "geheim": "geheim",
}
_LESS_THAN = re.compile(r"^<\s*\d+$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d+)?|\d{1,3}(,\d{3})+(\.\d+)?)$")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d+(,\d+)?|\d{1,3}(\.\d{3})+(,\d+)?)$")


@dataclass(frozen=True)
class Table:
    """A file's header and rows as text; ``lines[i]`` is the file line (or sheet row) of ``rows[i]``."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    where: str = "regel"  # "regel" (text file) or "rij" (spreadsheet row)


def decode(path: Path, data: bytes | None = None) -> str:
    """The whole file as text, by content (see the module docstring)."""
    data = path.read_bytes() if data is None else data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _decode_as(path, data, "utf-16")
    if data[:3] == b"\xef\xbb\xbf":
        return _decode_as(path, data, "utf-8-sig")
    sample = data[:4000]
    if sample and sample.count(b"\x00") > len(sample) // 4:  # UTF-16 without BOM
        le = sample[1::2].count(b"\x00") >= sample[0::2].count(b"\x00")
        return _decode_as(path, data, "utf-16-le" if le else "utf-16-be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return _decode_as(path, data, "cp1252")


def _decode_as(path: Path, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: geen leesbare tekst (UTF-8, UTF-16 of Windows-1252): "
            f"byte {exc.start} past niet in {encoding}"
        ) from exc
    if "\x00" in text:
        raise InputError(f"{path}: bevat binaire nul-tekens; geen tekstbestand (CSV)")
    return text.lstrip("\ufeff")


def sniff_separator(path: Path, header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    if n == 0:
        raise InputError(
            f"{path}: regel 1: geen scheidingsteken (; , of tab) gevonden in de kopregel {header[:60]!r}"
        )
    return sep


def read_text_table(path: Path) -> Table:
    text = decode(path)
    if not text.strip():
        raise InputError(f"{path}: leeg bestand")
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    sep = sniff_separator(path, first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"{path}: regel {reader.line_num}: geen geldige CSV ({exc})") from exc
    keep = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]  # blank lines
    keep = _after_comments(keep, rows)
    rows = [rows[i] for i in keep]
    lines = [lines[i] for i in keep]
    if not rows:
        raise InputError(f"{path}: leeg bestand")
    width = len(rows[0])
    for r, line in zip(rows[1:], lines[1:], strict=True):
        if len(r) != width:
            raise InputError(
                f"{path}: regel {line} heeft {len(r)} velden, de kopregel {width} "
                "(afgebroken of verkeerd opgebouwde regel)"
            )
    return Table(path, [c.strip() for c in rows[0]], rows[1:], lines[1:])


def _after_comments(keep: list[int], rows: list[list[str]]) -> list[int]:
    """Drop the instruction lines (``# ...``) a template carries above its header."""
    while keep and rows[keep[0]] and rows[keep[0]][0].lstrip().startswith("#"):
        keep = keep[1:]
    return keep


def read_xlsx_table(path: Path, sheet: str | int | None = None) -> Table:
    try:
        raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None, dtype=str)
    except ValueError as exc:  # unknown sheet
        raise InputError(f"{path}: werkblad {sheet!r} niet gevonden ({_first(exc)})") from exc
    except Exception as exc:  # noqa: BLE001 - zipfile/openpyxl errors on a broken workbook
        raise InputError(f"{path}: geen leesbaar Excel-bestand (.xlsx): {_first(exc)}") from exc
    raw = raw.fillna("")
    cells = [[str(c).strip() for c in row] for row in raw.itertuples(index=False)]
    numbers = [i + 1 for i in range(len(cells))]
    keep = _after_comments([i for i, r in enumerate(cells) if any(r)], cells)
    if not keep:
        raise InputError(f"{path}: leeg werkblad")
    head = keep[0]
    return Table(
        path,
        cells[head],
        [cells[i] for i in keep[1:]],
        [numbers[i] for i in keep[1:]],
        where="rij",
    )


def read_parquet_table(path: Path) -> Table:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - Arrow errors on a broken file
        raise InputError(f"{path}: geen leesbaar Parquet-bestand: {_first(exc)}") from exc
    rows = [["" if pd.isna(v) else _plain(v) for v in row] for row in df.itertuples(index=False)]
    return Table(path, [str(c).strip() for c in df.columns], rows, [i + 2 for i in range(len(rows))], "rij")


def _plain(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_table(path: Path, sheet: str | int | None = None) -> Table:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_table(path)
    if suffix == ".xlsx":
        return read_xlsx_table(path, sheet)
    if suffix == ".parquet":
        return read_parquet_table(path)
    raise InputError(
        f"{path}: bestandstype {suffix or '(geen)'} niet ondersteund; gebruik .csv, .xlsx of .parquet"
    )


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:160]


def marker(cell: str) -> str | None:
    """The suppression/missing reason a cell stands for, or None when it is not a marker."""
    c = cell.strip().lower()
    if c in MARKERS:
        return MARKERS[c]
    if _LESS_THAN.match(c):
        return c.replace(" ", "")
    return None


def parse_number(cell: str, decimal_comma: bool) -> float | None:
    """A strictly parsed number, or None when the cell is not one (``0,`` and ``1.2.3`` are not)."""
    c = cell.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        if not _COMMA_DECIMAL.match(c):
            return None
        return float(c.replace(".", "").replace(",", "."))
    if not _POINT_DECIMAL.match(c):
        return None
    return float(c.replace(",", ""))


def uses_decimal_comma(cells: list[str]) -> bool:
    """A column uses a decimal comma when any of its values has a comma (a ;-file from Dutch Excel)."""
    return any("," in c for c in cells)


def find_column(table: Table, name: str) -> int | None:
    want = name.strip().lower()
    for i, h in enumerate(table.header):
        if h.strip().lower() == want:
            return i
    return None
