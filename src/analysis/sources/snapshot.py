"""Parsers for the committed snapshot of real published data (data/raw/snapshot/, see PROVENANCE.md).

Each parser returns the long format of :mod:`analysis.records` with origin ``snapshot``.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.errors import InputError
from analysis.records import COLUMNS, to_long

CBS_SUPPRESSED = (-99999999, -99999997, -99997, -99995)

KWB_2023_TABLE = "85618NED"
KWB_2024_TABLE = "85984NED"


def _read_csv(path: Path, required: list[str], **kw) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: snapshot file missing")
    try:
        df = pd.read_csv(path, **kw)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot be parsed as CSV ({exc})") from exc
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
    return df


def _read_json(path: Path):
    if not path.exists():
        raise InputError(f"{path}: snapshot file missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from exc


def _suppressed_to_nan(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").where(lambda s: ~s.isin(CBS_SUPPRESSED))
    return out


# --- buurten 2023 (PDOK Wijk- en buurtkaart, KWB 2023 first release) -------------------------

BUURT_2023_COLUMNS = {
    "aantalInwoners": "inwoners",
    "aantalHuishoudens": "huishoudens",
    "percentagePersonen0Tot15Jaar": "pct_0_15",
    "percentagePersonen65JaarEnOuder": "pct_65_plus",
    "percentageEenpersoonshuishoudens": "eenpersoons_hh_pct",
    "percentageHuishoudensMetKinderen": "hh_met_kinderen_pct",
    "percentageMetHerkomstlandBuitenEuropa": "herkomst_buiten_europa_pct",
}
# the rest of the 2023 population profile: read when the file has them (the bundled file does)
BUURT_2023_OPTIONAL = {
    "percentagePersonen15Tot25Jaar": "pct_15_25",
    "percentagePersonen25Tot45Jaar": "pct_25_45",
    "percentagePersonen45Tot65Jaar": "pct_45_65",
    "percentageHuishoudensZonderKinderen": "hh_zonder_kinderen_pct",
}


BUURTEN_2023_FILE = "kwb_2023_pdok/buurten_2023_drechtsteden.geojson"
BUURT_2023_SOURCE = f"{KWB_2023_TABLE} (Wijk- en buurtkaart 2023, PDOK)"


def read_buurten_file(path: Path) -> gpd.GeoDataFrame:
    """Buurt polygons of the Wijk- en buurtkaart 2023 (PDOK layer ``buurten``) in EPSG:28992."""
    if not path.exists():
        raise InputError(f"{path}: file missing")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for a broken file
        raise InputError(f"{path}: cannot be read as GeoJSON ({exc})") from exc
    required = ["buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "gemeentenaam", *BUURT_2023_COLUMNS]
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
    for c in ("buurtcode", "wijkcode", "gemeentecode"):
        gdf[c] = gdf[c].astype(str).str.strip()
    gdf = _suppressed_to_nan(
        gdf, [*BUURT_2023_COLUMNS, *(c for c in BUURT_2023_OPTIONAL if c in gdf.columns)]
    )
    if gdf.crs is None:
        raise InputError(f"{path}: no coordinate reference system")
    return gdf.to_crs(28992)


def read_buurten_2023(snapshot: Path) -> gpd.GeoDataFrame:
    """The bundled buurt polygons of the seven Drechtsteden municipalities (358 buurten)."""
    return read_buurten_file(snapshot / BUURTEN_2023_FILE)


def buurt_2023_indicators(
    buurten: gpd.GeoDataFrame, source_table: str = BUURT_2023_SOURCE, origin: str = "snapshot"
) -> pd.DataFrame:
    columns = {**BUURT_2023_COLUMNS, **{k: v for k, v in BUURT_2023_OPTIONAL.items() if k in buurten.columns}}
    return to_long(
        pd.DataFrame(buurten.drop(columns="geometry")),
        region_col="buurtcode",
        year=2023,
        columns=columns,
        source_table=source_table,
        origin=origin,
    )


def read_gemeente_2023(snapshot: Path, code: str) -> gpd.GeoDataFrame:
    path = snapshot / "kwb_2023_pdok" / "gemeenten_drechtsteden_pdok_bestuurlijkegebieden.geojson"
    if not path.exists():
        raise InputError(f"{path}: snapshot file missing")
    gdf = gpd.read_file(path)
    code_col = next((c for c in ("code", "gemeentecode", "identificatie") if c in gdf.columns), None)
    if code_col is None:
        raise InputError(f"{path}: no municipality code column (code/gemeentecode)")
    codes = gdf[code_col].astype(str).str.strip()
    codes = codes.where(codes.str.startswith("GM"), "GM" + codes.str.zfill(4))
    gdf = gdf.assign(gemeentecode=codes)
    return gdf.to_crs(28992)


# --- KWB 2024 (real OData extract) -------------------------------------------------------------


# topic (CBS key without its suffix) -> indicator; the bundled extracts hold 8 topics (PROVENANCE §2)
KWB_2024_COLUMNS = {"AantalInwoners": "inwoners", "Woningvoorraad": "woningvoorraad"}


def kwb_2024_indicators(snapshot: Path) -> pd.DataFrame:
    path = snapshot / "kwb_2024_85984NED" / "stripped_filtered_data_2024_drechtsteden.json"
    data = _read_json(path)
    wide = pd.DataFrame.from_dict(data, orient="index").rename_axis("code").reset_index()
    from analysis.sources.cbs import base_key  # local import: cbs imports nothing from here

    cols = {c: base_key(c) for c in wide.columns if c != "code"}
    wide = wide.rename(columns=cols)
    if "AantalInwoners" not in wide.columns:
        raise InputError(f"{path}: expected column AantalInwoners_* missing")
    return to_long(
        wide,
        region_col="code",
        year=2024,
        columns={k: v for k, v in KWB_2024_COLUMNS.items() if k in wide.columns},
        source_table=KWB_2024_TABLE,
        origin="snapshot",
    )


# --- KWB 2016 / 2017 wijk attributes -----------------------------------------------------------

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


def kwb_wijk_indicators(snapshot: Path) -> pd.DataFrame:
    frames = []
    for year, table in ((2016, "83487NED"), (2017, "83765NED")):
        folder = snapshot / f"kwb_{year}_wijk"
        for fname, code_col in (
            (f"wijk_{year}_zwijndrecht.csv", "WK_CODE"),
            (f"gem_{year}_zwijndrecht.csv", "GM_CODE"),
        ):
            df = _read_csv(folder / fname, [code_col, *WIJK_KWB_COLUMNS])
            df = _suppressed_to_nan(df, list(WIJK_KWB_COLUMNS))
            frames.append(
                to_long(
                    df,
                    region_col=code_col,
                    year=year,
                    columns=WIJK_KWB_COLUMNS,
                    source_table=f"{table} (Wijk- en buurtkaart {year})",
                    origin="snapshot",
                )
            )
    return pd.concat(frames, ignore_index=True)


# --- Leefbaarometer 2.0 ------------------------------------------------------------------------


def leefbaarometer2_indicators(snapshot: Path) -> pd.DataFrame:
    folder = snapshot / "leefbaarometer_2_0"
    frames = []
    for fname in (
        "dimensiescore_wijk_stand_data1_zwijndrecht.csv",
        "dimensiescore_gemeente_stand_data1_zwijndrecht.csv",
    ):
        df = _read_csv(folder / fname, ["GBD", "JAAR", "RLBRMTR"])
        frames.append(
            to_long(
                df,
                region_col="GBD",
                year=None,
                year_col="JAAR",
                columns={"RLBRMTR": "lbm2_score"},
                source_table="Leefbaarometer 2.0 meting 2016 (BZK)",
                origin="snapshot",
            )
        )
    for fname, code_col in (
        ("wijk_zwijndrecht.csv", "WK_CODE"),
        ("score_gemeente_zwijndrecht.csv", "GM_CODE"),
    ):
        df = _read_csv(folder / fname, [code_col, "KL02", "KL08", "KL12", "KL14", "KL16"])
        for col in ("KL02", "KL08", "KL12", "KL14", "KL16"):
            frames.append(
                to_long(
                    df,
                    region_col=code_col,
                    year=2000 + int(col[2:]),
                    columns={col: "lbm2_klasse"},
                    source_table="Leefbaarometer 2.0 meting 2016 (BZK)",
                    origin="snapshot",
                )
            )
    return pd.concat(frames, ignore_index=True)


# --- KWB 2025 wijk housing figures (third-party merge, see PROVENANCE §6) ------------------------


def kwb_2025_wijkwarm_indicators(snapshot: Path) -> pd.DataFrame:
    path = snapshot / "kwb_2025_wijkwarm" / "zwijndrecht.json"
    data = _read_json(path)
    if "gemeente" not in data or "wijken" not in data:
        raise InputError(f"{path}: expected keys 'gemeente' and 'wijken'")
    rows = [data["gemeente"], *data["wijken"]]
    wide = pd.DataFrame(rows)
    missing = [c for c in ("code", "corporatie_pct", "woz") if c not in wide.columns]
    if missing:
        raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
    return to_long(
        wide,
        region_col="code",
        year=2025,
        columns={"corporatie_pct": "corporatie_pct", "woz": "woz"},
        source_table="86165NED (KWB 2025, via derden: wijkwarm; niet geverifieerd)",
        origin="snapshot",
    )


# --- PC4 SES-WOA and income 2022 (CBS postcode statistics, derived subset) -------------------------

PC4_FILES = {
    "cbs_pc4_ses_woa_zwijndrecht_subset.json": {
        "ses_woa_total": "ses_woa",
        "ses_woa_welvaart": "ses_woa_welvaart",
        "ses_woa_arbeid": "ses_woa_arbeid",
        "n_households": "huishoudens",
    },
    "cbs_pc4_income_zwijndrecht_subset.json": {
        "avg_income_household": "gem_inkomen_hh",
        "pct_low_income_household": "pc4_laag_inkomen_pct",
        "avg_woz_value": "woz",
        "n_private_households": "huishoudens",
    },
}


def read_pc4(snapshot: Path) -> pd.DataFrame:
    """PC4 figures for 2022 in a tidy frame (pc4, year, indicator, value, source, provisional).

    Kept apart from indicators.parquet: postcode areas do not nest in buurten, and the PC4 "laag
    inkomen" is a different definition (bottom 40% nationally) from the KWB one; see PROVENANCE §7.
    """
    frames = []
    for fname, mapping in PC4_FILES.items():
        path = snapshot / "pc4_2022" / fname
        data = _read_json(path)
        if "pc4" not in data or not isinstance(data["pc4"], dict):
            raise InputError(f"{path}: expected key 'pc4' with one entry per postcode")
        wide = pd.DataFrame.from_dict(data["pc4"], orient="index").rename_axis("pc4").reset_index()
        missing = [c for c in mapping if c not in wide.columns]
        if missing:
            raise InputError(f"{path}: expected column(s) missing: {', '.join(missing)}")
        long = wide.melt(id_vars="pc4", value_vars=list(mapping), var_name="kolom", value_name="value")
        long["indicator"] = long["kolom"].map(mapping)
        long["value"] = pd.to_numeric(long["value"], errors="coerce")
        long["year"] = 2022
        long["source"] = data.get("source", fname)
        long["provisional"] = data.get("status") == "voorlopig"
        frames.append(long.drop(columns="kolom").dropna(subset=["value"]))
    return pd.concat(frames, ignore_index=True)[
        ["pc4", "year", "indicator", "value", "source", "provisional"]
    ]


# --- Databank Zuid-Holland poverty series ------------------------------------------------------

TIMESERIES_COLUMNS = ["region_name", "region_code", "year", "value", "indicator", "unit", "note"]


def read_timeseries(snapshot: Path, name: str) -> pd.DataFrame:
    """Read one of the timeseries CSVs (all municipalities), as published."""
    path = snapshot / "timeseries" / name
    df = _read_csv(path, TIMESERIES_COLUMNS)
    df["year"] = pd.to_numeric(df["year"], errors="coerce")
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    if df["year"].isna().any():
        raise InputError(f"{path}: column 'year' has non-numeric values")
    df["year"] = df["year"].astype(int)
    return df


POVERTY_FILE = "databankzh_nr196_lage_welvaart_hh_25_64_abs.csv"
POVERTY_SOURCE = "Databank Zuid-Holland nr=196 (Tympaan o.b.v. CBS-microdata)"


def poverty_indicators(snapshot: Path, code: str, required: bool = True) -> pd.DataFrame:
    """The municipality's series; a municipality the file does not cover is an error only when
    ``required`` (the series covers 21 Zuid-Holland municipalities)."""
    df = read_timeseries(snapshot, POVERTY_FILE)
    df = df[df["region_code"] == code]
    if df.empty:
        if not required:
            return pd.DataFrame(columns=COLUMNS)
        raise InputError(f"{snapshot / 'timeseries' / POVERTY_FILE}: no rows for region {code}")
    long = to_long(
        df,
        region_col="region_code",
        year=None,
        year_col="year",
        columns={"value": "lage_welvaart_hh_25_64"},
        source_table=POVERTY_SOURCE,
        origin="snapshot",
    )
    # 2020 is provisional and has a definition break in wealth (see timeseries/README.md)
    long["provisional"] = long["year"] >= 2020
    return long[COLUMNS]


def all_indicators(
    snapshot: Path, code: str, buurten: gpd.GeoDataFrame, buurt_rows: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every snapshot series; files cover Zwijndrecht or the Drechtsteden, so the build keeps only
    the rows of the municipality it builds. ``buurt_rows`` replaces the bundled 2023 buurt figures
    (e.g. when the polygons came from a PDOK pull)."""
    frames = [
        buurt_2023_indicators(buurten) if buurt_rows is None else buurt_rows,
        kwb_2024_indicators(snapshot),
        kwb_wijk_indicators(snapshot),
        leefbaarometer2_indicators(snapshot),
        kwb_2025_wijkwarm_indicators(snapshot),
        poverty_indicators(snapshot, code, required=False),
    ]
    # an empty frame (a series that does not cover this municipality) would turn the dtypes to object
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


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
        raise InputError(f"{path}: expected column(s) missing: {', '.join(k + '_*' for k in missing)}")
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
