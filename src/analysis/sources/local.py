"""Local files: the programme's focus areas and optional Leefbaarometer 3.0 downloads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.records import COLUMNS, to_long

FOCUS_COLUMNS = ["focusgebied_code", "focusgebied_naam", "buurtcode", "mapping", "toelichting"]


FOCUS_CODE = r"^FG(0[1-9]|[1-9]\d)$"  # FG00 is reserved for "all focus buurten together"


def read_focusgebieden(local: Path, known_buurten: set[str] | None = None) -> pd.DataFrame:
    """Read focusgebieden.csv and check it: one row per buurt, each buurt in one focus area, one
    name per focus area, no empty required cell, and every buurt code known."""
    path = local / "focusgebieden.csv"
    if not path.exists():
        raise InputError(f"{path}: file missing (the programme's focus areas)")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot be parsed as CSV ({_first_line(exc)})") from exc
    missing = [c for c in FOCUS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
    if df.empty:
        raise InputError(f"{path}: no rows (only a header); at least one focus area is needed")
    for col in ("focusgebied_code", "focusgebied_naam", "buurtcode", "mapping"):
        df[col] = df[col].str.strip()
        empty = df[col] == ""
        if empty.any():
            raise InputError(f"{path}: column '{col}' is empty on line {int(empty.idxmax()) + 2}")
    df["buurtcode"] = df["buurtcode"].str.upper()
    df["focusgebied_code"] = df["focusgebied_code"].str.upper()
    bad_code = ~df["focusgebied_code"].str.match(FOCUS_CODE)
    if bad_code.any():
        raise InputError(
            f"{path}: column 'focusgebied_code' must be FG01-FG99, "
            f"found {df.loc[bad_code, 'focusgebied_code'].iloc[0]!r}"
        )
    bad_mapping = sorted(set(df["mapping"]) - {"exact", "approximate"})
    if bad_mapping:
        raise InputError(f"{path}: column 'mapping' must be exact/approximate, found {bad_mapping}")
    dup = df.duplicated(["focusgebied_code", "buurtcode"])
    if dup.any():
        r = df[dup].iloc[0]
        raise InputError(
            f"{path}: column 'buurtcode': {r['buurtcode']} is listed twice for {r['focusgebied_code']} "
            f"(line {int(dup.idxmax()) + 2})"
        )
    areas_per_buurt = df.groupby("buurtcode")["focusgebied_code"].unique()
    twice = areas_per_buurt[areas_per_buurt.map(len) > 1]
    if len(twice):
        raise InputError(
            f"{path}: column 'buurtcode': {twice.index[0]} is in more than one focus area "
            f"({', '.join(sorted(twice.iloc[0]))}); a buurt can belong to one focus area only"
        )
    names = df.groupby("focusgebied_code")["focusgebied_naam"].unique()
    two_names = names[names.map(len) > 1]
    if len(two_names):
        raise InputError(
            f"{path}: column 'focusgebied_naam': {two_names.index[0]} has more than one name "
            f"({' / '.join(two_names.iloc[0])})"
        )
    if known_buurten is not None:
        unknown = sorted(set(df["buurtcode"]) - known_buurten)
        if unknown:
            raise InputError(f"{path}: column 'buurtcode' has unknown region code(s): {unknown}")
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


def _decode(path: Path) -> tuple[str, str]:
    """The whole file as text: UTF-8 (with or without BOM), else Windows-1252 (the usual Dutch Excel
    export). Decoding the whole file, not a sample, so a late accent cannot break the parse."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: neither UTF-8 nor Windows-1252 text (byte {exc.start})") from exc


def read_leefbaarometer3(path: Path, gemeente: str | None = None) -> pd.DataFrame:
    """Parse one Leefbaarometer 3.0 buurt file into the long format (origin ``local``).

    ``gemeente`` (e.g. GM0642): the file must hold rows of that municipality's buurten."""
    text, _ = _decode(path)
    if not text.strip():
        raise InputError(f"{path}: empty file")
    header = text.lstrip("\ufeff").splitlines()[0]
    if ";" in header:
        sep = ";"
    elif "," in header:
        sep = ","
    else:
        raise InputError(f"{path}: cannot detect a ';' or ',' separated table (header {header[:60]!r})")
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    while rows and not any(f.strip() for f in rows[-1]):
        rows.pop()  # trailing blank lines
    if len(rows) < 2:
        raise InputError(f"{path}: no rows")
    width = len(rows[0])
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != width:
            raise InputError(
                f"{path}: line {i} has {len(r)} fields, the header {width} (truncated or malformed line)"
            )
    df = pd.DataFrame(rows[1:], columns=[c.strip().lower() for c in rows[0]], dtype=str)
    df = df.rename(columns={"buurtcode": "bu_code"})
    for col in ("bu_code", "jaar", "lbm"):
        if col not in df.columns:
            raise InputError(f"{path}: expected column '{col}' missing (found {list(df.columns)})")
    df["bu_code"] = df["bu_code"].str.strip().str.upper()
    for col in ("bu_code", "jaar", "lbm"):
        empty = df[col].str.strip() == ""
        if empty.any():
            raise InputError(f"{path}: column '{col}' is empty on line {int(empty.idxmax()) + 2}")
    bad_code = ~df["bu_code"].str.match(r"^(BU\d{8}|WK\d{6}|GM\d{4}|NL00)$")
    if bad_code.any():
        raise InputError(
            f"{path}: column 'bu_code' has a malformed code: {df.loc[bad_code, 'bu_code'].iloc[0]!r}"
        )
    present = {k: v for k, v in LBM3_COLUMNS.items() if k in df.columns}
    for col in [*present, "jaar"]:
        raw = df[col].str.strip()
        # With ';' as separator the decimal mark is usually a comma (Dutch Excel export).
        converted = pd.to_numeric(raw.str.replace(",", ".", regex=False), errors="coerce")
        bad = converted.isna() & (raw != "")
        if bad.any():
            raise InputError(
                f"{path}: column '{col}' has non-numeric value(s), e.g. {df.loc[bad, col].iloc[0]!r}"
            )
        df[col] = converted
    if not df["jaar"].between(2000, 2100).all() or (df["jaar"] % 1 != 0).any():
        raise InputError(f"{path}: column 'jaar' must be a year 2000-2100, found {df['jaar'].iloc[0]!r}")
    df["jaar"] = df["jaar"].astype(int)
    key = ["bu_code", "jaar"]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        d = df[dup]
        conflicting = d.groupby(key)[list(present)].nunique(dropna=False).gt(1).any(axis=1)
        if conflicting.any():
            code, year = conflicting[conflicting].index[0]
            raise InputError(f"{path}: column 'bu_code': {code} {year} appears twice with different values")
        df = df.drop_duplicates(key)
    if gemeente:
        num = gemeente[2:]
        ours = df["bu_code"].str.match(rf"^(GM{num}|WK{num}\d\d|BU{num}\d{{4}})$")
        if not ours.any():
            raise InputError(f"{path}: column 'bu_code' has no rows for municipality {gemeente}")
    long = to_long(
        df,
        region_col="bu_code",
        year=None,
        year_col="jaar",
        columns=present,
        source_table=LBM3_SOURCE,
        origin="local",
    )[COLUMNS]
    # checked against the long-format contract here, so an error names this file
    from analysis.processed.schemas import indicators_schema, validate

    return validate(long, indicators_schema(), str(path))


def local_indicators(local: Path, gemeente: str | None = None) -> pd.DataFrame:
    frames = [read_leefbaarometer3(p, gemeente) for p in sorted(local.glob("leefbaarometer3*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
