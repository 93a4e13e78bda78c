"""Planning a sheet batch: which areas get a sheet (population threshold, slugs), the inputs'
fingerprint, and which sheets must be rendered in this run (new, failed, changed inputs, forced).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.config import NOTEBOOKS_DIR, Paths, settings
from analysis.errors import InputError
from analysis.factsheets.manifest import _read_previous
from analysis.io import clean_stale_temps, read_parquet

TEMPLATE = NOTEBOOKS_DIR / "factsheet.ipynb"
LEVEL_ORDER = {"gemeente": 0, "focusgebied": 1, "wijk": 2, "buurt": 3}


def slugify(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")


def list_areas(regions: pd.DataFrame, min_inwoners: int) -> pd.DataFrame:
    """All areas with a deterministic slug; those under the threshold get no sheet, with the reason."""
    r = pd.DataFrame(regions.drop(columns="geometry", errors="ignore"))
    r = r[r["level"].isin(LEVEL_ORDER)].copy()
    r["slug"] = [
        c.lower() if n == c else f"{c.lower()}-{slugify(n)}"  # no name held: the code alone
        for c, n in zip(r["region_code"], r["name"], strict=True)
    ]
    r["sheet"] = r["inwoners"].fillna(0) >= min_inwoners
    r["reden"] = r["sheet"].map({True: "", False: f"minder dan {min_inwoners} inwoners"})
    r["_o"] = r["level"].map(LEVEL_ORDER)
    return r.sort_values(["_o", "region_code"]).drop(columns="_o").reset_index(drop=True)


# Every configuration file a sheet reads (compared by content: a comment-only edit is no change):
# settings (colophon, population threshold, programme), thresholds and axes, the indicator catalogue
# (labels, units), its explanations (texts, y-axis spans) and the goals (goal texts and fan charts).
SHEET_CONFIG = (
    "settings.yaml",
    "resilience.yaml",
    "indicators.yaml",
    "indicators_uitleg.yaml",
    "doelen.yaml",
)
# snapshot files a sheet reads directly (CBS variable descriptions, 2023 buurt names)
SHEET_SNAPSHOT = ("kwb_2024_85984NED/DataProperties.json", "kwb_2023_pdok/buurten_2023_drechtsteden.geojson")


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "ontbreekt"


def _config_hash(name: str) -> str:
    import json

    from analysis import config  # read at call time: tests point CONFIG_DIR elsewhere

    if not (config.CONFIG_DIR / name).exists():
        return "ontbreekt"
    data = config.load_yaml(name)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def sheet_tables(paths: Paths) -> dict[str, Path]:
    """Name -> path of every table a sheet reads (analysis.factsheets.context)."""
    res, goals = paths.outputs / "resilience", paths.outputs / "goals"
    return {
        "indicatoren (build)": paths.indicators,
        "onderdrukte cellen (build)": paths.processed / "suppressed.parquet",
        "build_manifest.json (build)": paths.processed / "build_manifest.json",
        "resilience/scores.parquet": res / "scores.parquet",
        "resilience/gevoeligheid.parquet": res / "gevoeligheid.parquet",
        "resilience/bijdragen.parquet": res / "bijdragen.parquet",
        "resilience/nationaal_lbm2_niveau.parquet": res / "nationaal_lbm2_niveau.parquet",
        "goals/status.parquet": goals / "status.parquet",
        "goals/prognoses.parquet": goals / "prognoses.parquet",
    }


def fingerprint_inputs(paths: Paths, template: Path) -> dict[str, str]:
    """{input name: hash} of everything a sheet reads: template, code, configuration, snapshot
    files, tables and the regions (names, levels, geometry)."""
    from analysis import config
    from analysis.processed.build import load_regions
    from analysis.reuse import code_version

    found = {"sjabloon": _file_hash(template), "programmacode": code_version()}
    found.update({f"config/{n}": _config_hash(n) for n in SHEET_CONFIG})
    found.update({f"snapshot/{n}": _file_hash(config.SNAPSHOT_DIR / n) for n in SHEET_SNAPSHOT})
    found.update({name: _file_hash(p) for name, p in sheet_tables(paths).items()})
    regions = load_regions(paths)
    h = hashlib.sha256(
        pd.util.hash_pandas_object(regions.drop(columns="geometry"), index=False).values.tobytes()
    )
    h.update(b"".join(regions.geometry.to_wkb()))
    found["gebieden (build)"] = h.hexdigest()
    return found


def fingerprint_of(found: dict[str, str]) -> str:
    import json

    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()


def inputs_fingerprint(paths: Paths, template: Path) -> str:
    """One hash over :func:`fingerprint_inputs`: a sheet with another fingerprint is re-rendered."""
    return fingerprint_of(fingerprint_inputs(paths, template))


INPUTS_RECORD = ".invoer.json"  # fingerprint -> its inputs, so a rerun can say what changed
KEEP_RECORDS = 8


def _load_records(out: Path) -> dict:
    import json

    try:
        data = json.loads((out / INPUTS_RECORD).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def remember_inputs(out: Path, fp: str, found: dict[str, str]) -> None:
    """Keep the inputs behind ``fp`` (and those of the last few other fingerprints)."""
    from analysis.io import write_json

    records = {k: v for k, v in _load_records(out).items() if k != fp}
    records = dict(list(records.items())[-(KEEP_RECORDS - 1) :])
    records[fp] = found
    write_json(out / INPUTS_RECORD, records)


def why_rerendered(
    todo: list, previous: dict, out: Path, fp: str, found: dict[str, str], force: bool
) -> dict:
    """{Dutch reason: number of sheets} for the sheets in ``todo``."""
    records = _load_records(out)
    why: dict[str, int] = {}
    for a in todo:
        prev = previous.get(a.region_code)
        if force:
            reason = "--force"
        elif prev is None:
            reason = "nieuw"
        elif prev.get("status") != "ok":
            reason = "vorige keer mislukt"
        elif not (out / f"{a.slug}.html").exists():
            reason = "bestand ontbrak"
        elif prev.get("fingerprint") != fp:
            old = records.get(prev.get("fingerprint") or "")
            if old is None:
                reason = "invoer gewijzigd"
            else:
                changed = sorted(k for k in found.keys() | old.keys() if found.get(k) != old.get(k))
                reason = "gewijzigd: " + ", ".join(changed) if changed else "invoer gewijzigd"
        else:
            reason = "gevraagd"
        why[reason] = why.get(reason, 0) + 1
    return why


SLUG_FILE = re.compile(r"^(gm|wk|bu|fg)\d+-[a-z0-9-]*\.html$")


def check_inputs(paths: Paths) -> None:
    """Read every table a sheet reads, once, in the batch process: a corrupt file is one clear
    error here instead of a failure in every worker's warm-up."""
    for p in (
        paths.indicators,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "gevoeligheid.parquet",
        paths.outputs / "goals" / "status.parquet",
        paths.outputs / "goals" / "prognoses.parquet",
    ):
        if p.exists() or p == paths.indicators:
            read_parquet(p)


def prune_stale(out: Path, keep_slugs: set[str]) -> list[str]:
    """Delete sheets of areas that no longer get one (e.g. under a raised population threshold):
    a sheet of a too-small area must not stay published."""
    removed = []
    for f in out.glob("*.html"):
        if SLUG_FILE.match(f.name) and f.stem not in keep_slugs:
            f.unlink()
            removed.append(f.name)
    return sorted(removed)


def select_areas(paths: Paths, min_inw: int, only=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(regions, areas with their sheet decision) of one processed set; an unknown or too small
    area in ``only`` is an InputError naming it."""
    from analysis.processed.build import load_regions

    regions = load_regions(paths)
    check_inputs(paths)
    areas = list_areas(regions, min_inw)
    by_code = areas.set_index("region_code")
    if only:
        unknown = sorted(set(only) - set(by_code.index))
        if unknown:
            raise InputError(f"--only {' '.join(unknown)}: onbekende gebiedscode(s) (zie {paths.regions})")
        small = [c for c in only if not by_code.loc[c, "sheet"]]
        if small:
            raise InputError(
                f"--only {' '.join(small)}: geen factsheet voor dit gebied: {by_code.loc[small[0], 'reden']}"
            )
    return regions, areas


def plan_sheets(
    qualifying: pd.DataFrame, previous: dict, out: Path, fp: str, *, only=None, force=False, niveaus=None
) -> tuple[list, dict]:
    """(areas to render, manifest entries of the areas kept as they are). A sheet is rendered when
    selected (``only``, ``niveaus``) and new, failed before, missing, of other inputs, or forced."""
    todo, entries = [], {}
    for a in qualifying.itertuples():
        selected = (not only or a.region_code in only) and (not niveaus or a.level in niveaus)
        prev = previous.get(a.region_code)
        html = out / f"{a.slug}.html"
        unchanged = (
            prev is not None
            and prev.get("fingerprint") == fp
            and prev.get("status") == "ok"
            and html.exists()
        )
        if not selected or (unchanged and not force):
            if prev is not None and (prev.get("status") != "ok" or html.exists()):
                entries[a.region_code] = {**prev, "status": prev.get("status"), "skipped": True}
            continue
        todo.append(a)
    if only:  # --only also sets the order in which sheets are handed to the workers
        rank = {c: i for i, c in enumerate(only)}
        todo.sort(key=lambda a: rank[a.region_code])
    return todo, entries


@dataclasses.dataclass
class Plan:
    """What one processed set's run has to do (one municipality): its areas, what to render and
    the manifest entries of the sheets kept as they are."""

    paths: Paths
    areas: pd.DataFrame
    regions: object
    out: Path
    previous: dict
    pruned: list[str]
    fingerprint: str
    todo: list
    entries: dict
    manifest: dict | None = None  # written by complete() as soon as every sheet of the set is in
    why: dict = dataclasses.field(default_factory=dict)  # Dutch reason -> sheets rendered for it
    started: float = dataclasses.field(default_factory=time.time)  # wall clock, as file times count
    inputs: dict = dataclasses.field(default_factory=dict)  # fingerprint_inputs, kept by the manifest


def plan(paths: Paths, *, only=None, force=False, template: Path = TEMPLATE, niveaus=None) -> Plan:
    """Areas to render for one processed set. ``niveaus``: only areas of these levels get a sheet
    in this run (``--niveau``)."""
    regions, areas = select_areas(paths, int(settings()["min_inwoners"]), only)
    out = paths.outputs / "factsheets"
    out.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(out)
    previous = _read_previous(out / "manifest.json", out, areas)
    qualifying = areas[areas["sheet"]]
    pruned = prune_stale(out, set(qualifying["slug"]))
    found = fingerprint_inputs(paths, template)
    fp = fingerprint_of(found)
    todo, entries = plan_sheets(qualifying, previous, out, fp, only=only, force=force, niveaus=niveaus)
    why = why_rerendered(todo, previous, out, fp, found, force)
    return Plan(paths, areas, regions, out, previous, pruned, fp, todo, entries, why=why, inputs=found)


def only_for(paths: Paths, only, n_sets: int):
    """``--only`` for one municipality of a multi-municipality run: the codes inside it."""
    if not only or n_sets == 1:
        return only
    mine = [
        c for c in only if c == paths.gemeente or (c[:2] in ("WK", "BU") and "GM" + c[2:6] == paths.gemeente)
    ]
    return mine or None
