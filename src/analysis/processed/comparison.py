"""Comparison regions of a municipal build: Nederland (NL00) and Drechtsteden (DS00) aggregates
from the bundled national and Drechtsteden snapshot files (moved out of processed/build.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from analysis.config import indicator_catalog, settings
from analysis.processed.aggregate import aggregate_candidates
from analysis.processed.checks import check_plausible
from analysis.sources import snapshot


def _stamp(snap: Path) -> tuple:
    """Size and mtime of the national files, so the cache below notices a rebuilt snapshot."""
    folder = snap / snapshot.NATIONAL_DIR
    return tuple(
        (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(folder.glob("kwb_*.csv.gz"))
    )


@cache
def _national_parts(snap: Path, stamp: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All NL gemeente figures and the NL00 aggregates (the same for every municipality's build, so
    computed once per process)."""
    gem = snapshot.national_gemeente_indicators(snap)
    check_plausible(gem, indicator_catalog(), {"snapshot": snap / snapshot.NATIONAL_DIR})
    frames = []
    for _year, rows in gem.groupby("year"):
        members = pd.DataFrame({"area_code": "NL00", "part_code": sorted(rows["region_code"].unique())})
        frames.append(
            aggregate_candidates(rows, members, "land", part_level="gemeente", parts_name="gemeenten")
        )
    return gem, pd.concat(frames, ignore_index=True)


def comparison_regions(snap: Path, code: str) -> pd.DataFrame:
    """Real Nederland (NL00) and, for a Drechtsteden municipality, Drechtsteden (DS00) aggregates
    with their coverage, before the coverage gate.

    NL00: per year over the gemeenten of that year's file (KWB 2016: 390, 2017: 388, 2024: 342 —
    all gemeenten of that year), counts summed, shares weighted (see aggregate.py). DS00: over the
    gemeenten of settings.yaml `vergelijking.drechtsteden` (2016, 2017, 2024; a member missing in a
    year keeps its weight from the nearest year, so it lowers the coverage) and, for 2023, over all
    their buurten in the bundled 2023 buurt file. None of our files holds a Nederland figure as
    published by CBS for these indicators; a CBS pull with an NL00 row wins over these aggregates.
    """
    gem, nl = _national_parts(snap, _stamp(snap))
    frames = [nl.copy()]
    regio = list((settings().get("vergelijking") or {}).get("drechtsteden") or [])
    if code in regio:
        members = pd.DataFrame({"area_code": "DS00", "part_code": regio})
        frames.append(
            aggregate_candidates(
                gem[gem["region_code"].isin(regio)],
                members,
                "regio",
                part_level="gemeente",
                parts_name="gemeenten",
            )
        )
        buurten = snapshot.read_buurten_2023(snap)
        buurten = buurten[buurten["gemeentecode"].isin(regio)]
        b_rows = snapshot.buurt_2023_indicators(buurten)
        members = pd.DataFrame({"area_code": "DS00", "part_code": sorted(buurten["buurtcode"])})
        frames.append(aggregate_candidates(b_rows, members, "regio"))
    return pd.concat([f for f in frames if len(f)], ignore_index=True)
