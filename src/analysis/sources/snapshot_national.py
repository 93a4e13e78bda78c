"""Parsers of the national snapshot tables (data/raw/snapshot/national/): Leefbaarometer 2.0 and KWB
2016/2017/2024 for every wijk and gemeente of the Netherlands. Re-exported by analysis.sources.snapshot."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.errors import InputError
from analysis.records import to_long
from analysis.sources.snapshot_files import (
    KWB_2024_COLUMNS,
    KWB_2024_TABLE,
    WIJK_KWB_COLUMNS,
    _read_csv,
    _suppressed_to_nan,
)

# --- National tables (all NL wijken and gemeenten; data/raw/snapshot/national, PROVENANCE §10) --------
#
# Written by scripts/snapshot_national.py from /work/shared/data. Kept apart from
# indicators.parquet (which holds one municipality): used to place Zwijndrecht in the national
# distribution (analysis.resilience.national). Origin of everything here: ``snapshot`` (real).

NATIONAL_DIR = "national"
LBM2_SOURCE = "Leefbaarometer 2.0 meting 2016 (BZK)"
LBM2_DIMENSIONS = {
    "RLBRMTR": "totaal",
    "RLBWON": "woningvoorraad",
    "RLBVRZ": "voorzieningen",
    "RLBVEI": "veiligheid",
    "RLBFYS": "fysieke omgeving",
}
LBM2_KLASSE_YEARS = {"KL02": 2002, "KL08": 2008, "KL12": 2012, "KL14": 2014, "KL16": 2016}
KWB_NATIONAL_COLUMNS = {**WIJK_KWB_COLUMNS, "GEM_HH_GR": "huishoudgrootte"}
KWB_NATIONAL_TABLES = {2016: "83487NED", 2017: "83765NED"}


def _national_csv(snapshot: Path, name: str, required: list[str]) -> pd.DataFrame:
    return _read_csv(snapshot / NATIONAL_DIR / name, required, dtype={c: str for c in required[:1]})


def _level_of_gbd(codes: pd.Series) -> pd.Series:
    return codes.str[:2].map({"WK": "wijk", "GM": "gemeente"})


def lbm2_national_scores(snapshot: Path) -> pd.DataFrame:
    """Leefbaarometer 2.0 scores (deviation from the NL mean; higher = better) for every NL wijk and
    gemeente, 2012/2014/2016: region_code, level, year, dimensie, value.

    Dimension ``totaal zonder bewoners`` is the sum of the four kept dimensions (the published total
    is their sum plus ``bewoners``, which holds population composition and is not used here).
    """
    frames = []
    for level in ("wijk", "gemeente"):
        df = _national_csv(snapshot, f"lbm2_{level}_stand.csv.gz", ["GBD", "JAAR", *LBM2_DIMENSIONS])
        df = df.assign(**{"totaal zonder bewoners": df[["RLBWON", "RLBVRZ", "RLBVEI", "RLBFYS"]].sum(axis=1)})
        long = df.rename(columns=LBM2_DIMENSIONS).melt(
            id_vars=["GBD", "JAAR"], var_name="dimensie", value_name="value"
        )
        frames.append(long.rename(columns={"GBD": "region_code", "JAAR": "year"}))
    out = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    out["level"] = _level_of_gbd(out["region_code"])
    return out[["region_code", "level", "year", "dimensie", "value"]]


def lbm2_national_development(snapshot: Path) -> pd.DataFrame:
    """Leefbaarometer 2.0 development (change in score) per wijk/gemeente: region_code, level, begin,
    einde, dimensie, value (higher = improved)."""
    dims = {"D" + k[1:]: v for k, v in LBM2_DIMENSIONS.items()}
    frames = []
    for level in ("wijk", "gemeente"):
        df = _national_csv(snapshot, f"lbm2_{level}_ontwikkeling.csv.gz", ["GBD", "BEGIN", "EINDE", *dims])
        df = df.assign(**{"totaal zonder bewoners": df[["DLBWON", "DLBVRZ", "DLBVEI", "DLBFYS"]].sum(axis=1)})
        long = df.rename(columns=dims).melt(id_vars=["GBD", "BEGIN", "EINDE"], var_name="dimensie")
        frames.append(long.rename(columns={"GBD": "region_code", "BEGIN": "begin", "EINDE": "einde"}))
    out = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    out["level"] = _level_of_gbd(out["region_code"])
    return out[["region_code", "level", "begin", "einde", "dimensie", "value"]]


def lbm2_national_classes(snapshot: Path) -> pd.DataFrame:
    """Leefbaarometer 2.0 class (1-9, higher = better) per wijk/gemeente for 2002, 2008, 2012,
    2014 and 2016: region_code, level, year, klasse."""
    frames = []
    for level, code in (("wijk", "WK_CODE"), ("gemeente", "GM_CODE")):
        df = _national_csv(snapshot, f"lbm2_{level}_klassen.csv.gz", [code, *LBM2_KLASSE_YEARS])
        long = df.melt(
            id_vars=[code], value_vars=list(LBM2_KLASSE_YEARS), var_name="kol", value_name="klasse"
        )
        long["year"] = long["kol"].map(LBM2_KLASSE_YEARS)
        frames.append(long.rename(columns={code: "region_code"}).drop(columns="kol"))
    out = pd.concat(frames, ignore_index=True)
    out["klasse"] = pd.to_numeric(out["klasse"], errors="coerce")
    out = out.dropna(subset=["klasse"])
    out["level"] = _level_of_gbd(out["region_code"])
    return out[["region_code", "level", "year", "klasse"]]


def kwb_national(snapshot: Path) -> pd.DataFrame:
    """KWB 2016 and 2017 attributes for every NL wijk and gemeente (land records only): region_code,
    name, gemeente_code, level, year, source_table and the columns of ``KWB_NATIONAL_COLUMNS``."""
    frames = []
    for year, table in KWB_NATIONAL_TABLES.items():
        for level, code, name in (("wijk", "WK_CODE", "WK_NAAM"), ("gemeente", "GM_CODE", "GM_NAAM")):
            df = _national_csv(
                snapshot,
                f"kwb_{year}_{level}_nl.csv.gz",
                [code, name, "GM_CODE", "WATER", *KWB_NATIONAL_COLUMNS],
            )
            df = df[df["WATER"].astype(str).str.upper() != "JA"]
            df = _suppressed_to_nan(df, list(KWB_NATIONAL_COLUMNS)).rename(columns=KWB_NATIONAL_COLUMNS)
            frames.append(
                df.assign(
                    region_code=df[code].astype(str).str.strip(),
                    name=df[name],
                    gemeente_code=df["GM_CODE"],
                    level=level,
                    year=year,
                    source_table=f"{table} (Wijk- en buurtkaart {year})",
                )
            )
    cols = [
        "region_code",
        "name",
        "gemeente_code",
        "level",
        "year",
        "source_table",
        *KWB_NATIONAL_COLUMNS.values(),
    ]
    return pd.concat([f[cols] for f in frames], ignore_index=True)


KWB_2024_NATIONAL_FILE = "kwb_2024_gemeente_wijk_nl.csv.gz"


def kwb_2024_national(snapshot: Path) -> pd.DataFrame:
    """KWB 2024 (85984NED) inhabitants and housing stock of every NL gemeente and wijk, long format
    (origin ``snapshot``). No buurten and no Nederland row are in the source (PROVENANCE §2, §10)."""
    path = snapshot / NATIONAL_DIR / KWB_2024_NATIONAL_FILE
    wide = _read_csv(path, ["code"], dtype={"code": str})
    from analysis.sources.cbs import base_key  # local import: cbs imports nothing from here

    wide = wide.rename(columns={c: base_key(c) for c in wide.columns if c != "code"})
    missing = [c for c in KWB_2024_COLUMNS if c not in wide.columns]
    if missing:
        raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(k + '_*' for k in missing)}")
    return to_long(
        wide,
        region_col="code",
        year=2024,
        columns=KWB_2024_COLUMNS,
        source_table=KWB_2024_TABLE,
        origin="snapshot",
    )


def national_gemeente_indicators(snapshot: Path) -> pd.DataFrame:
    """Every NL gemeente's real figures we hold, long format: KWB 2016 and 2017 (inhabitants,
    households, % 0-14 / 65+, % one-person households, % households with children; land records only)
    and KWB 2024 (inhabitants, housing stock). The parts of the Nederland and Drechtsteden aggregates."""
    kwb = kwb_national(snapshot)
    kwb = kwb[kwb["level"] == "gemeente"]
    frames = [
        to_long(
            rows,
            region_col="region_code",
            year=int(year),
            columns={v: v for v in WIJK_KWB_COLUMNS.values()},
            source_table=str(rows["source_table"].iloc[0]),
            origin="snapshot",
        )
        for year, rows in kwb.groupby("year")
    ]
    k24 = kwb_2024_national(snapshot)
    frames.append(k24[k24["level"] == "gemeente"])
    return pd.concat(frames, ignore_index=True)
