"""Parsers for the committed snapshot of real published data (data/raw/snapshot/, see PROVENANCE.md).
The national tables are parsed in snapshot_national.py, the shared readers live in snapshot_files.py;
both are re-exported here.

Each parser returns the long format of :mod:`analysis.records` with origin ``snapshot``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from analysis.errors import InputError, technisch
from analysis.records import COLUMNS, to_long
from analysis.sources.buurt_polygons import BUURTEN_2023_FILE
from analysis.sources.snapshot_files import (  # noqa: F401 - re-exported
    CBS_SUPPRESSED,
    KWB_2024_COLUMNS,
    KWB_2024_TABLE,
    WIJK_KWB_COLUMNS,
    _read_csv,
    _read_json,
    _suppressed_to_nan,
)
from analysis.sources.snapshot_national import (  # noqa: F401 - re-exported
    KWB_2024_NATIONAL_FILE,
    KWB_NATIONAL_COLUMNS,
    KWB_NATIONAL_TABLES,
    LBM2_DIMENSIONS,
    LBM2_KLASSE_YEARS,
    LBM2_SOURCE,
    NATIONAL_DIR,
    kwb_2024_national,
    kwb_national,
    lbm2_national_classes,
    lbm2_national_development,
    lbm2_national_scores,
    national_gemeente_indicators,
)

KWB_2023_TABLE = "85618NED"


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


BUURT_2023_SOURCE = f"{KWB_2023_TABLE} (Wijk- en buurtkaart 2023, PDOK)"


def read_buurten_file(path: Path) -> gpd.GeoDataFrame:
    """Buurt polygons of the Wijk- en buurtkaart 2023 (PDOK layer ``buurten``) in EPSG:28992."""
    if not path.exists():
        raise InputError(f"{path}: bestand ontbreekt")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for a broken file
        raise InputError(f"{path}: niet te lezen als GeoJSON ({technisch(exc)})") from exc
    required = ["buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "gemeentenaam", *BUURT_2023_COLUMNS]
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(missing)}")
    for c in ("buurtcode", "wijkcode", "gemeentecode"):
        gdf[c] = gdf[c].astype(str).str.strip()
    gdf = _suppressed_to_nan(
        gdf, [*BUURT_2023_COLUMNS, *(c for c in BUURT_2023_OPTIONAL if c in gdf.columns)]
    )
    if gdf.crs is None:
        raise InputError(f"{path}: geen coördinatenstelsel")
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
        raise InputError(f"{path}: snapshotbestand ontbreekt")
    gdf = gpd.read_file(path)
    code_col = next((c for c in ("code", "gemeentecode", "identificatie") if c in gdf.columns), None)
    if code_col is None:
        raise InputError(f"{path}: geen kolom met de gemeentecode (code of gemeentecode)")
    codes = gdf[code_col].astype(str).str.strip()
    codes = codes.where(codes.str.startswith("GM"), "GM" + codes.str.zfill(4))
    gdf = gdf.assign(gemeentecode=codes)
    return gdf.to_crs(28992)


# --- KWB 2024 (real OData extract) -------------------------------------------------------------


def kwb_2024_indicators(snapshot: Path) -> pd.DataFrame:
    path = snapshot / "kwb_2024_85984NED" / "stripped_filtered_data_2024_drechtsteden.json"
    data = _read_json(path)
    wide = pd.DataFrame.from_dict(data, orient="index").rename_axis("code").reset_index()
    from analysis.sources.cbs import base_key  # local import: cbs imports nothing from here

    cols = {c: base_key(c) for c in wide.columns if c != "code"}
    wide = wide.rename(columns=cols)
    if "AantalInwoners" not in wide.columns:
        raise InputError(f"{path}: verwachte kolom AantalInwoners_* ontbreekt")
    return to_long(
        wide,
        region_col="code",
        year=2024,
        columns={k: v for k, v in KWB_2024_COLUMNS.items() if k in wide.columns},
        source_table=KWB_2024_TABLE,
        origin="snapshot",
    )


# --- KWB 2016 / 2017 wijk attributes -----------------------------------------------------------


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
        raise InputError(f"{path}: verwacht de sleutels 'gemeente' en 'wijken'")
    rows = [data["gemeente"], *data["wijken"]]
    wide = pd.DataFrame(rows)
    missing = [c for c in ("code", "corporatie_pct", "woz") if c not in wide.columns]
    if missing:
        raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(missing)}")
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
            raise InputError(f"{path}: verwacht de sleutel 'pc4' met een element per postcode")
        wide = pd.DataFrame.from_dict(data["pc4"], orient="index").rename_axis("pc4").reset_index()
        missing = [c for c in mapping if c not in wide.columns]
        if missing:
            raise InputError(f"{path}: verwachte kolom(men) ontbreken: {', '.join(missing)}")
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
        raise InputError(f"{path}: kolom 'year' heeft waarden die geen getal zijn")
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
        raise InputError(f"{snapshot / 'timeseries' / POVERTY_FILE}: geen rijen voor gebied {code}")
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
