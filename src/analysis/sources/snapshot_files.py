"""Shared readers of the committed snapshot files (data/raw/snapshot/): one clear InputError for a
missing or unparsable file or column, CBS suppression codes as missing, and the KWB column maps used
by both the municipal (snapshot.py) and the national (snapshot_national.py) parsers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.errors import InputError, technisch

CBS_SUPPRESSED = (-99999999, -99999997, -99997, -99995)

KWB_2024_TABLE = "85984NED"

# topic (CBS key without its suffix) -> indicator; the bundled extracts hold 8 topics (PROVENANCE §2)
KWB_2024_COLUMNS = {"AantalInwoners": "inwoners", "Woningvoorraad": "woningvoorraad"}

WIJK_KWB_COLUMNS = {
    "AANT_INW": "inwoners",
    "AANTAL_HH": "huishoudens",
    "P_00_14_JR": "pct_0_15",
    "P_15_24_JR": "pct_15_25",
    "P_25_44_JR": "pct_25_45",
    "P_45_64_JR": "pct_45_65",
    "P_65_EO_JR": "pct_65_plus",
    "P_EENP_HH": "eenpersoons_hh_pct",
    "P_HH_Z_K": "hh_zonder_kinderen_pct",
    "P_HH_M_K": "hh_met_kinderen_pct",
}


def _read_csv(path: Path, required: list[str], **kw) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: snapshotbestand ontbreekt")
    try:
        df = pd.read_csv(path, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: niet te lezen als CSV ({technisch(exc)})") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(missing)}")
    return df


def _read_json(path: Path):
    if not path.exists():
        raise InputError(f"{path}: snapshotbestand ontbreekt")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}; {technisch(exc.msg)})"
        ) from exc


def _suppressed_to_nan(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").where(lambda s: ~s.isin(CBS_SUPPRESSED))
    return out
