"""Local files: the programme's focus areas and optional Leefbaarometer 3.0 downloads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError, technisch
from analysis.records import COLUMNS, to_long
from analysis.sources import partner_read as pr

FOCUS_COLUMNS = ["focusgebied_code", "focusgebied_naam", "buurtcode", "mapping", "toelichting"]


FOCUS_CODE = r"^FG(0[1-9]|[1-9]\d)$"  # FG00 is reserved for "all focus buurten together"


def read_focusgebieden(local: Path, known_buurten: set[str] | None = None) -> pd.DataFrame:
    """Read focusgebieden.csv and check it: one row per buurt, each buurt in one focus area, one
    name per focus area, no empty required cell, and every buurt code known."""
    path = local / "focusgebieden.csv"
    if not path.exists():
        raise InputError(f"{path}: bestand ontbreekt (de focusgebieden van het programma)")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: niet te lezen als CSV ({technisch(_first_line(exc))})") from exc
    missing = [c for c in FOCUS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{path}: geen rijen (alleen een kopregel); minstens een focusgebied is nodig")
    for col in ("focusgebied_code", "focusgebied_naam", "buurtcode", "mapping"):
        df[col] = df[col].str.strip()
        empty = df[col] == ""
        if empty.any():
            raise InputError(f"{path}: kolom '{col}' is leeg op regel {int(empty.idxmax()) + 2}")
    df["buurtcode"] = df["buurtcode"].str.upper()
    df["focusgebied_code"] = df["focusgebied_code"].str.upper()
    bad_code = ~df["focusgebied_code"].str.match(FOCUS_CODE)
    if bad_code.any():
        raise InputError(
            f"{path}: kolom 'focusgebied_code' moet FG01-FG99 zijn, "
            f"gevonden: {df.loc[bad_code, 'focusgebied_code'].iloc[0]!r}"
        )
    bad_mapping = sorted(set(df["mapping"]) - {"exact", "approximate"})
    if bad_mapping:
        raise InputError(
            f"{path}: kolom 'mapping' moet 'exact' of 'approximate' zijn, gevonden: {bad_mapping}"
        )
    dup = df.duplicated(["focusgebied_code", "buurtcode"])
    if dup.any():
        r = df[dup].iloc[0]
        raise InputError(
            f"{path}: kolom 'buurtcode': {r['buurtcode']} staat twee keer bij {r['focusgebied_code']} "
            f"(regel {int(dup.idxmax()) + 2})"
        )
    areas_per_buurt = df.groupby("buurtcode")["focusgebied_code"].unique()
    twice = areas_per_buurt[areas_per_buurt.map(len) > 1]
    if len(twice):
        raise InputError(
            f"{path}: kolom 'buurtcode': {twice.index[0]} hoort bij meer dan een focusgebied "
            f"({', '.join(sorted(twice.iloc[0]))}); een buurt hoort bij hoogstens een focusgebied"
        )
    names = df.groupby("focusgebied_code")["focusgebied_naam"].unique()
    two_names = names[names.map(len) > 1]
    if len(two_names):
        raise InputError(
            f"{path}: kolom 'focusgebied_naam': {two_names.index[0]} heeft meer dan een naam "
            f"({' / '.join(two_names.iloc[0])})"
        )
    if known_buurten is not None:
        unknown = sorted(set(df["buurtcode"]) - known_buurten)
        if unknown:
            raise InputError(f"{path}: kolom 'buurtcode' heeft onbekende gebiedscode(s): {unknown}")
    return df


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]


LBM3_COLUMNS = {
    "lbm": "lbm_score",
    "fys": "lbm_fysiek",
    "won": "lbm_woningen",
    "vrz": "lbm_voorzieningen",
    "onv": "lbm_veiligheid",
    "soc": "lbm_sociaal",
}
LBM3_SOURCE = "Leefbaarometer 3.0 (BZK), lokaal bestand"
# the area code column of the official open-data files (buurten / wijken / gemeenten), or ours
LBM3_CODE_COLUMNS = ("bu_code", "wk_code", "gm_code", "buurtcode", "wijkcode", "gemeentecode")
_ANY_CODE = r"^(BU\d{4}[0-9A-Z]{4}|WK\d{4}[0-9A-Z]{2}|GM\d{4}|NL00)$"


def _header_of(path: Path) -> list[str]:
    """The first non-empty row of a table file, lower-cased; [] when it cannot be read as a table."""
    try:
        if path.suffix.lower() == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            try:
                for row in wb.worksheets[0].iter_rows(max_row=5, values_only=True):
                    cells = [str(c).strip().lower() for c in row if c is not None]
                    if cells:
                        return cells
            finally:
                wb.close()
            return []
        head = path.read_bytes()[:16384]
        text = pr.decode(
            path, head[: len(head) - (len(head) % 2)] if head[:2] in (b"\xff\xfe", b"\xfe\xff") else head
        )
    except (InputError, OSError, ValueError, KeyError) as exc:
        del exc
        return []
    except Exception:  # noqa: BLE001 - a broken xlsx (zip) is simply not a Leefbaarometer file
        return []
    first = next((line for line in text.splitlines() if line.strip()), "")
    sep = max((";", "\t", ","), key=first.count)
    return [c.strip().strip('"').lower() for c in first.split(sep)]


def is_leefbaarometer3(path: Path) -> bool:
    """A Leefbaarometer 3.0 file by content (a code column, ``jaar`` and ``lbm`` in its header), or
    by its name (``leefbaarometer*``)."""
    if path.suffix.lower() not in (".csv", ".txt", ".xlsx") or path.name.startswith("."):
        return False
    if path.name.lower().startswith("leefbaarometer"):
        return True  # named as one: read (and refused with a clear message) even when malformed
    header = _header_of(path)
    return "jaar" in header and "lbm" in header and any(c in header for c in LBM3_CODE_COLUMNS)


def leefbaarometer3_files(local: Path, exclude: set[Path] | frozenset = frozenset()) -> list[Path]:
    if not local.is_dir():
        return []
    return [p for p in sorted(local.iterdir()) if p.is_file() and p not in exclude and is_leefbaarometer3(p)]


def read_leefbaarometer3(
    path: Path, gemeente: str | None = None, missing_out: list[tuple[str, str]] | None = None
) -> pd.DataFrame:
    """Parse one Leefbaarometer 3.0 file (buurten, wijken or gemeenten, as published) into the long
    format (origin ``local``). Empty cells and ``NA`` are missing values, not errors.

    ``gemeente`` (e.g. GM0642): only that municipality's rows are kept and there must be some.
    ``missing_out`` receives (region_code, indicator) of every empty/``NA`` cell of those rows: the
    file covers that series but says "no value", so the build puts no synthetic filler in its place."""
    table = pr.read_table(path)
    header = [h.lower() for h in table.header]
    code_col = next((c for c in LBM3_CODE_COLUMNS if c in header), None)
    for col in (code_col or "bu_code", "jaar", "lbm"):
        if col not in header:
            raise InputError(f"{path}: regel 1: kolom '{col}' ontbreekt (gevonden: {', '.join(header)})")
    pos = {c: header.index(c) for c in header}
    present = {k: v for k, v in LBM3_COLUMNS.items() if k in pos}
    comma = {c: pr.uses_decimal_comma([r[pos[c]] for r in table.rows]) for c in present}
    recs = []
    where = table.where
    for row, line in zip(table.rows, table.lines, strict=True):
        code = row[pos[code_col]].strip().upper()
        if not code:
            raise InputError(f"{path}: {where} {line}: kolom '{code_col}' is leeg")
        if not re.match(_ANY_CODE, code):
            raise InputError(f"{path}: {where} {line}: kolom '{code_col}': geen CBS-gebiedscode ({code!r})")
        year_raw = row[pos["jaar"]].strip()
        m = re.fullmatch(r"(\d{4})(\.0+)?", year_raw)
        if not m or not 2000 <= int(m.group(1)) <= 2100:
            raise InputError(
                f"{path}: {where} {line}: kolom 'jaar' moet een jaar 2000-2100 zijn ({year_raw!r})"
            )
        rec = {"code": code, "jaar": int(m.group(1)), "line": line}
        for col in present:
            cell = row[pos[col]]
            if pr.marker(cell) is not None:
                rec[col] = np.nan
                continue
            v = pr.parse_number(cell, comma[col])
            if v is None or not np.isfinite(v) or abs(v) > 1000:
                raise InputError(f"{path}: {where} {line}: kolom '{col}': geen geldige score ({cell!r})")
            rec[col] = v
        recs.append(rec)
    if not recs:
        raise InputError(f"{path}: geen rijen (alleen een kopregel)")
    df = pd.DataFrame(recs)
    key = ["code", "jaar"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        d = df[dup]
        conflicting = d.groupby(key)[list(present)].nunique(dropna=False).gt(1).any(axis=1)
        if conflicting.any():
            code, year = conflicting[conflicting].index[0]
            line = int(d[(d["code"] == code) & (d["jaar"] == year)]["line"].iloc[1])
            raise InputError(
                f"{path}: {where} {line}: kolom '{code_col}': {code} {year} staat twee keer in het bestand "
                "met verschillende waarden"
            )
        df = df.drop_duplicates(key)
    if gemeente:
        num = gemeente[2:]
        df = df[df["code"].str.match(rf"^(GM{num}|WK{num}[0-9A-Z]{{2}}|BU{num}[0-9A-Z]{{4}})$")]
        if df.empty:
            raise InputError(f"{path}: kolom '{code_col}': geen rijen voor gemeente {gemeente}")
    if missing_out is not None:
        for col, indicator in present.items():
            missing_out += [(c, indicator) for c in df.loc[df[col].isna(), "code"]]
    long = to_long(
        df,
        region_col="code",
        year=None,
        year_col="jaar",
        columns=present,
        source_table=LBM3_SOURCE,
        origin="local",
    )[COLUMNS]
    # checked against the long-format contract here, so an error names this file
    from analysis.processed.schemas import indicators_schema, validate

    return validate(long, indicators_schema(), str(path))


def local_indicators(
    local: Path,
    gemeente: str | None = None,
    exclude: frozenset = frozenset(),
    missing_out: list[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """All Leefbaarometer 3.0 files in ``local`` (found by content), long format."""
    files = leefbaarometer3_files(local, exclude)
    frames = [read_leefbaarometer3(p, gemeente, missing_out) for p in files]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
