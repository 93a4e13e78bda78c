"""Build data/processed/regions.gpkg and indicators.parquet from all sources.

Order of precedence for one region, year and indicator: cbs > snapshot > local > synthetic, and at
equal origin a directly published value beats one aggregated from buurten.

Aggregates (wijk, gemeente and focus areas from buurten; Nederland ``NL00`` from all gemeenten;
Drechtsteden ``DS00`` from its gemeenten, or for 2023 from their buurten) carry their coverage and
are written only at coverage >= 0.95 (:mod:`analysis.processed.aggregate`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.config import (
    Paths,
    cbs_registry,
    indicator_catalog,
    programma_gemeente,
    settings,
    vergelijking,
)
from analysis.errors import InputError, technisch
from analysis.io import atomic_path, verify_cbs_cache, write_json
from analysis.processed import partner_build
from analysis.processed.aggregate import OUT_COLUMNS, aggregate_candidates, coverage_gate  # noqa: F401
from analysis.processed.checks import check_focus, check_plausible
from analysis.processed.comparison import comparison_regions
from analysis.processed.regions import REGION_ATTRIBUTES, build_regions  # noqa: F401 (re-exported)
from analysis.processed.resolve import derived_counts, one_origin_per_series, resolve  # noqa: F401
from analysis.processed.schemas import indicators_schema, regions_schema, validate
from analysis.processed.tables import load_indicators, load_manifest, load_regions  # noqa: F401 (re-exported)
from analysis.sources import cbs, local, pdok, snapshot, synthetic

SYNTHETIC_INDICATORS = sorted(
    set(synthetic.RECIPES) | set(synthetic.EXTRA_RECIPES) | {"ses_woa", "lbm_score"}
)


@dataclass(frozen=True)
class BuildResult:
    regions: gpd.GeoDataFrame
    indicators: pd.DataFrame
    truth: pd.DataFrame
    synthetic_indicators: list[str]
    dropped_aggregates: int = 0  # aggregates below the coverage gate, not written
    # partner cells not published (disclosure control, delivered suppressed): never their value
    suppressed: pd.DataFrame | None = None
    notices: tuple[str, ...] = ()  # absent/undeclared partner files, unmatched Leefbaarometer codes


def _wijk_names(snap: Path) -> dict[str, str]:
    """Wijk names from KWB 2017 (the 2023 buurt polygons carry none), for the Drechtsteden. A 2023
    wijk code that did not exist in 2017 (recoded wijken) keeps its code as its name."""
    folder = snap / "kwb_2017_wijk"
    path = folder / "wijk_2017_drechtsteden.csv"
    df = snapshot._read_csv(
        path if path.exists() else folder / "wijk_2017_zwijndrecht.csv", ["WK_CODE", "WK_NAAM"], dtype=str
    ).dropna(subset=["WK_CODE", "WK_NAAM"])
    # "Wijk 01 Walburg" -> "Walburg"; a bare "Wijk 00" stays as it is
    return {
        r.WK_CODE: (r.WK_NAAM.split(" ", 2)[-1] if r.WK_NAAM.count(" ") >= 2 else r.WK_NAAM)
        for r in df.itertuples()
    }


def own_codes(code: str) -> str:
    """Regex for the region codes of one municipality; wijk/buurt codes may be alphanumeric."""
    num = code[2:]
    return rf"^(GM{num}|WK{num}[0-9A-Z]{{2}}|BU{num}[0-9A-Z]{{4}})$"


@dataclass(frozen=True)
class BuurtSource:
    buurten: gpd.GeoDataFrame  # all buurten of this municipality
    all_codes: set[str]  # every buurt code in the polygon file(s) (other municipalities too)
    rows: pd.DataFrame  # the 2023 buurt figures in long format
    path: Path


def load_buurten(paths: Paths) -> BuurtSource:
    """Buurt polygons + KWB 2023 figures of ``paths.gemeente``: a PDOK pull in data/raw/pdok/<GM>/
    wins; otherwise the bundled Drechtsteden file. Neither holding the municipality is an error."""
    code = paths.gemeente
    bundled = paths.snapshot / snapshot.BUURTEN_2023_FILE
    pulled = pdok.cached_buurten(paths.pdok_cache)
    if pulled is not None:
        gdf = snapshot.read_buurten_file(pulled.path)
        ours = gdf[gdf["gemeentecode"] == code].copy()
        if ours.empty:
            raise InputError(f"{pulled.path}: geen buurten met gemeentecode {code} (kolom gemeentecode)")
        rows = snapshot.buurt_2023_indicators(ours, source_table=pulled.source_table, origin="cbs")
        return BuurtSource(ours, set(gdf["buurtcode"]), rows, pulled.path)
    gdf = snapshot.read_buurten_2023(paths.snapshot)
    ours = gdf[gdf["gemeentecode"] == code].copy()
    if ours.empty:
        raise InputError(
            f"gemeente {code}: geen buurtpolygonen aanwezig (niet in {bundled}, kolom gemeentecode; "
            f"geen PDOK-download in {paths.pdok_cache}); draai met netwerk "
            f"`veerkracht --gemeente {code} kaart`"
        )
    return BuurtSource(ours, set(gdf["buurtcode"]), snapshot.buurt_2023_indicators(ours), bundled)


def programme_focus(paths: Paths, buurten: BuurtSource) -> pd.DataFrame:
    """Focus areas of this municipality: rows of focusgebieden.csv for its buurten, and only for the
    programme's municipality (settings.yaml `programma.gemeente`). Others get an empty frame."""
    if paths.gemeente != programma_gemeente():
        return pd.DataFrame(columns=local.FOCUS_COLUMNS)
    own = set(buurten.buurten["buurtcode"])
    focus = local.read_focusgebieden(paths.local, buurten.all_codes | own)
    check_focus(focus, own, paths.local / "focusgebieden.csv", paths.gemeente)  # another's buurt: fout
    return focus.reset_index(drop=True)


def _check_codes(
    df: pd.DataFrame, known: set[str], code: str, what: str, others: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Keep rows of this municipality, NL00 and the comparison municipalities; an unknown code of
    this municipality is an error."""
    ours = df["region_code"].str.match(own_codes(code))
    df = df[ours | df["region_code"].isin(["NL00", *others])]
    unknown = sorted(set(df["region_code"]) - known - {"NL00", *others})
    if unknown:
        raise InputError(f"{what}: onbekende gebiedscode(s) voor {code}: {unknown[:5]}")
    return df


def build(paths: Paths, *, use_cache: bool = True) -> BuildResult:
    """Processed tables for ``paths.gemeente`` (any municipality we hold buurt polygons for)."""
    cfg = settings()
    code = paths.gemeente
    snap = paths.snapshot
    # inputs that need nothing else are checked first: a bad file fails before the slower reads
    if use_cache:
        verify_cbs_cache(paths.cbs_cache, set(cbs_registry()))  # binary / manifest-less / edited -> fout
    claimed = partner_build.declared_files(paths.local)  # partner files are never read as Leefbaarometer
    lbm_files = local.leefbaarometer3_files(paths.local, claimed)
    lbm_missing: list[tuple[str, str]] = []  # empty/NA cells: no synthetic filler for those series
    local_raw = local.local_indicators(paths.local, code, claimed, lbm_missing)
    source = load_buurten(paths)
    buurten = source.buurten
    focus = programme_focus(paths, source)
    gemeente = snapshot.read_gemeente_2023(snap, code)
    regions = build_regions(buurten, focus, gemeente, code, _wijk_names(snap))
    known = set(regions["region_code"])
    others = vergelijking(code)

    # the snapshot files cover Zwijndrecht or the Drechtsteden: keep this municipality's rows
    # (a wijk only in another year's classification cannot be placed and is left out) and NL00
    snap_rows = snapshot.all_indicators(snap, code, buurten, buurt_rows=source.rows)
    snap_rows = snap_rows[snap_rows["region_code"].isin(known | {"NL00"})]
    notices: list[str] = []  # said after the build is written (partner_build.say)
    local_long = partner_build.lbm_rows_of(local_raw, known, code, notices)
    partner_data = partner_build.load(paths, regions, source.all_codes, lbm_files, notices)
    real = [snap_rows, local_long]
    if use_cache:
        national = (cfg.get("vergelijking") or {}).get("nederland", "NL00")
        cached = cbs.cached_indicators(paths.cbs_cache, cbs_registry(), cbs.Selection(code, national, others))
        real.append(_check_codes(cached, known, code, f"{paths.cbs_cache}", others))
    real_long = pd.concat([r for r in real if len(r)], ignore_index=True)
    origins = {"snapshot": paths.snapshot, "local": paths.local, "cbs": paths.cbs_cache}
    check_plausible(real_long, indicator_catalog(), origins)  # every real source meets here

    syn_cfg = cfg["synthetic"]
    b_pop = buurten[["buurtcode"]].assign(inwoners=buurten["aantalInwoners"].astype(float))
    syn = synthetic.generate(
        b_pop,
        seed=int(syn_cfg["seed"]),
        first_year=int(syn_cfg["eerste_jaar"]),
        last_year=int(syn_cfg["laatste_jaar"]),
        n_planted=int(syn_cfg["n_planted"]),
        min_inwoners=int(cfg["min_inwoners"]),
    )
    syn_rows = partner_build.without_series(syn.indicators, lbm_missing)
    base = resolve(pd.concat([real_long, syn_rows], ignore_index=True), real_long.iloc[0:0])
    base = partner_build.add_to_base(base, partner_data)  # partner series replace any other origin
    partner_ids = [s.indicator for s in partner_data.specs]  # checked as delivered (rates computed)
    check_plausible(base[base["indicator"].isin(partner_ids)], indicator_catalog(), origins)
    base = pd.concat([base, derived_counts(base).assign(coverage=np.nan)], ignore_index=True)

    membership = pd.concat(
        [
            regions.loc[regions["level"] == "buurt", ["wijk_code", "region_code"]]
            .set_axis(["area_code", "part_code"], axis=1)
            .assign(level="wijk"),
            focus[["focusgebied_code", "buurtcode"]]
            .set_axis(["area_code", "part_code"], axis=1)
            .assign(level="focusgebied"),
            focus[["buurtcode"]]
            .rename(columns={"buurtcode": "part_code"})
            .assign(area_code="FG00", level="focusgebied"),
            regions.loc[regions["level"] == "buurt", ["region_code"]]
            .rename(columns={"region_code": "part_code"})
            .assign(area_code=code, level="gemeente"),
        ],
        ignore_index=True,
    )
    candidates = [
        aggregate_candidates(base, membership[membership["level"] == lvl], lvl)
        for lvl in ("wijk", "focusgebied", "gemeente")
        if (membership["level"] == lvl).any()  # no focus areas outside the programme's municipality
    ]
    candidates.append(comparison_regions(snap, code))
    aggs, dropped = coverage_gate(pd.concat([c for c in candidates if len(c)], ignore_index=True))
    indicators = resolve(base, aggs)
    indicators, suppressed = partner_build.disclose(indicators, partner_data, membership, regions)
    indicators = indicators.sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)

    indicators = validate(indicators, indicators_schema(built=True), "indicators.parquet")
    regions = validate(regions, regions_schema(), "regions.gpkg")
    synthetic_used = sorted(indicators.loc[indicators["origin"] == "synthetic", "indicator"].unique())
    return BuildResult(
        regions=regions,
        indicators=indicators,
        truth=syn.truth,
        synthetic_indicators=synthetic_used,
        dropped_aggregates=dropped,
        suppressed=suppressed,
        notices=tuple(notices),
    )


def write(result: BuildResult, paths: Paths) -> dict:
    """Write all processed tables; each file is swapped in only after it was written in full."""
    paths.processed.mkdir(parents=True, exist_ok=True)
    with (
        atomic_path(paths.regions) as tmp_regions,
        atomic_path(paths.indicators) as tmp_ind,
        atomic_path(paths.processed / "synthetic_truth.parquet") as tmp_truth,
        atomic_path(paths.processed / partner_build.SUPPRESSED_FILE) as tmp_supp,
    ):
        # GDAL wants a .gpkg suffix to pick the driver; write there, then move into the temp name
        gpkg_tmp = tmp_regions.with_name(tmp_regions.name + ".gpkg")  # removed with the temp on failure
        try:
            result.regions.to_file(gpkg_tmp, layer="regions", driver="GPKG")
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - GDAL write errors (disk full, ...) are not OSErrors
            raise InputError(
                f"{paths.regions}: niet te schrijven ({technisch(str(exc).splitlines()[0])})"
            ) from exc
        os.replace(gpkg_tmp, tmp_regions)
        result.indicators.to_parquet(tmp_ind, index=False)
        result.truth.to_parquet(tmp_truth, index=False)
        partner_build.suppressed_or_empty(result.suppressed).to_parquet(tmp_supp, index=False)
    g = result.regions[result.regions["level"] == "gemeente"]
    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gemeente": paths.gemeente,
        "gemeentenaam": str(g["name"].iloc[0]) if len(g) else None,
        "focusgebieden": int((result.regions["level"] == "focusgebied").sum()),
        "rows": len(result.indicators),
        "regions": len(result.regions),
        "synthetic_indicators": result.synthetic_indicators,
        "aggregaten_onder_dekking": result.dropped_aggregates,
        "origins": result.indicators["origin"].value_counts().to_dict(),
        "niet_gepubliceerd": len(partner_build.suppressed_or_empty(result.suppressed)),
    }
    write_json(paths.processed / "build_manifest.json", manifest)
    partner_build.say(result.notices)
    return manifest
