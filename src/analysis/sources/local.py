"""Local files: the programme's focus areas and optional Leefbaarometer 3.0 downloads."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.records import COLUMNS, to_long

FOCUS_COLUMNS = ["focusgebied_code", "focusgebied_naam", "buurtcode", "mapping", "toelichting"]


def read_focusgebieden(local: Path, known_buurten: set[str] | None = None) -> pd.DataFrame:
    """Read focusgebieden.csv and check every buurt code against the known buurten."""
    path = local / "focusgebieden.csv"
    if not path.exists():
        raise InputError(f"{path}: file missing (the programme's focus areas)")
    try:
        df = pd.read_csv(path, dtype=str)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot be parsed as CSV ({exc})") from exc
    missing = [c for c in FOCUS_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
    df["buurtcode"] = df["buurtcode"].str.strip()
    bad_mapping = sorted(set(df["mapping"]) - {"exact", "approximate"})
    if bad_mapping:
        raise InputError(f"{path}: column 'mapping' must be exact/approximate, found {bad_mapping}")
    if known_buurten is not None:
        unknown = sorted(set(df["buurtcode"]) - known_buurten)
        if unknown:
            raise InputError(f"{path}: column 'buurtcode' has unknown region code(s): {unknown}")
    return df


LBM3_COLUMNS = {
    "lbm": "lbm_score",
    "fys": "lbm_fysiek",
    "won": "lbm_woningen",
    "vrz": "lbm_voorzieningen",
    "onv": "lbm_veiligheid",
    "soc": "lbm_sociaal",
}
LBM3_SOURCE = "Leefbaarometer 3.0 (BZK), lokaal bestand"


def read_leefbaarometer3(path: Path) -> pd.DataFrame:
    """Parse one Leefbaarometer 3.0 buurt file into the long format (origin ``local``)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(4096)
        sep = csv.Sniffer().sniff(sample, delimiters=";,").delimiter
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot detect a ';' or ',' separated table ({exc})") from exc
    # With ';' as separator the decimal mark is usually a comma (Dutch Excel export).
    try:
        df = pd.read_csv(path, sep=sep, decimal="," if sep == ";" else ".", encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot be parsed ({exc})") from exc
    df.columns = [c.strip().lower() for c in df.columns]
    df = df.rename(columns={"buurtcode": "bu_code"})
    for col in ("bu_code", "jaar", "lbm"):
        if col not in df.columns:
            raise InputError(f"{path}: expected column '{col}' missing (found {list(df.columns)})")
    present = {k: v for k, v in LBM3_COLUMNS.items() if k in df.columns}
    for col in [*present, "jaar"]:
        converted = pd.to_numeric(df[col].astype(str).str.replace(",", ".", regex=False), errors="coerce")
        bad = converted.isna() & df[col].notna()
        if bad.any():
            raise InputError(
                f"{path}: column '{col}' has non-numeric value(s), e.g. {df.loc[bad, col].iloc[0]!r}"
            )
        df[col] = converted
    if df.empty:
        raise InputError(f"{path}: no rows")
    return to_long(
        df,
        region_col="bu_code",
        year=None,
        year_col="jaar",
        columns=present,
        source_table=LBM3_SOURCE,
        origin="local",
    )[COLUMNS]


def local_indicators(local: Path) -> pd.DataFrame:
    frames = [read_leefbaarometer3(p) for p in sorted(local.glob("leefbaarometer3*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
