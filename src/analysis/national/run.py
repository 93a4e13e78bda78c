"""`veerkracht report|factsheets --scope nederland|provincie PVxx`: the national data path end to end."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from analysis.config import OUTPUTS_DIR, PROCESSED_DIR, RAW_DIR, Paths, settings
from analysis.errors import InputError, technisch
from analysis.io import read_parquet, write_parquet
from analysis.national.build import build_national, nederland_check
from analysis.national.store import (
    NATIONAL,
    has_store,
    load_regions,
    national_root,
    read_partitioned,
    write_national,
)
from analysis.national.views import write_views
from analysis.sources.cbs_national import store_sources

SCOPES = ("gemeente", "provincie", "nederland")
NIVEAUS = ("gemeente", "wijk", "buurt")
PROVINCIE_PATTERN = re.compile(r"^PV\d{2}$")


def national_cache(raw: Path) -> Path:
    """The national live pull, ``<raw>/cbs/nederland`` (``veerkracht fetch --scope nederland``)."""
    from analysis.sources.cbs import NATIONAL_CACHE

    return Path(raw) / "cbs" / NATIONAL_CACHE


def roots() -> tuple[Path, Path, Path]:
    """(raw, processed root, outputs root) of the national scope; the VEERKRACHT_* variables of the
    per-municipality layout apply, with ``{gemeente}`` read as ``nederland``."""

    def one(env: str, default: Path) -> Path:
        v = os.environ.get(env)
        if v is None:
            return default
        return Path(v.replace("{gemeente}", NATIONAL)) if "{gemeente}" in v else Path(v)

    raw = Path(os.environ.get("VEERKRACHT_RAW", RAW_DIR))
    processed = one("VEERKRACHT_PROCESSED", PROCESSED_DIR)
    outputs = one("VEERKRACHT_OUTPUTS", OUTPUTS_DIR)
    # processed/outputs of the national scope live in a `nederland` folder of that root
    return raw, processed, outputs


def parse_scope(values: list[str] | None) -> tuple[str, str | None]:
    """``--scope gemeente`` | ``--scope provincie PV28`` | ``--scope nederland``."""
    if not values:
        return "gemeente", None
    kind = values[0].lower()
    if kind not in SCOPES:
        raise InputError(f"--scope {values[0]}: verwacht een van {', '.join(SCOPES)}")
    if kind == "provincie":
        if len(values) != 2 or not PROVINCIE_PATTERN.match(values[1].upper()):
            raise InputError(
                "--scope provincie: geef een CBS-provinciecode, bijvoorbeeld `--scope provincie PV28`"
            )
        return kind, values[1].upper()
    if len(values) != 1:
        raise InputError(f"--scope {kind}: neemt geen verdere waarde (gevonden: {' '.join(values[1:])})")
    return kind, None


def check_niveau(niveau: str | None, scope: str, raw: Path | None = None) -> list[str] | None:
    """``--niveau`` as a list for the runners. Buurten with a national or provincial scope need a
    national buurt pull in ``<raw>/cbs/nederland`` (the bundled all-NL files go down to wijken)."""
    if niveau is None:
        return None
    if niveau not in NIVEAUS:
        raise InputError(f"--niveau {niveau}: verwacht een van {', '.join(NIVEAUS)}")
    if niveau == "buurt" and scope != "gemeente":
        from analysis.sources.cbs_national import pulled_niveaus

        store = national_cache(raw if raw is not None else roots()[0])
        if "buurt" not in pulled_niveaus(store):
            raise InputError(
                f"--niveau buurt --scope {scope}: geen landelijke buurtlijst aanwezig (de meegeleverde "
                f"landelijke bestanden gaan tot wijken; geen buurtdownload in {store}); haal die op met "
                "`veerkracht fetch --scope nederland --niveau buurt`, of gebruik --niveau wijk"
            )
    return [niveau]


def provincie_table(raw: Path) -> Path | None:
    """The gemeente -> provincie table: the one `veerkracht fetch --gebieden` pulled from CBS
    ("Gebieden in Nederland", ``<raw>/cbs/nederland/gemeente_provincie.csv``), else one placed by hand
    in ``<raw>/snapshot/national/gemeente_provincie.csv`` (columns GM_CODE, PV_CODE); None: neither."""
    from analysis.sources.cbs_national import PROVINCIE_FILE, provincie_path

    for path in (provincie_path(raw), Path(raw) / "snapshot" / "national" / PROVINCIE_FILE):
        if path.exists():
            return path
    return None


def gemeenten_in_scope(regions: pd.DataFrame, scope: str, provincie: str | None, raw: Path) -> list[str]:
    gms = sorted(regions.loc[regions["level"] == "gemeente", "region_code"])
    if scope == "nederland":
        return gms
    path = provincie_table(raw)
    if path is None:
        from analysis.sources.cbs_national import gebieden_spec, provincie_path

        first = gebieden_spec()["editions"][0]
        raise InputError(
            f"--scope provincie {provincie}: tabel gemeente->provincie ontbreekt ({provincie_path(raw)}); "
            f"haal die met netwerk op met `veerkracht fetch --gebieden` (CBS {first} Gebieden in "
            "Nederland 2024), of gebruik --scope nederland"
        )
    try:
        table = pd.read_csv(path, dtype=str)
        sel = set(table.loc[table["PV_CODE"].str.strip() == provincie, "GM_CODE"].str.strip())
    except (KeyError, ValueError, OSError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{path}: verwacht de kolommen GM_CODE en PV_CODE ({technisch(type(exc).__name__)})"
        ) from exc
    found = [g for g in gms if g in sel]
    if not found:
        raise InputError(f"--scope provincie {provincie}: geen gemeente van de landelijke gegevens in {path}")
    return found


def build(raw: Path | None = None, processed_root: Path | None = None, log=print) -> dict:
    """Build the national processed set and the resilience scores (one grouped pass)."""
    from analysis.national.index import score_wijken

    d_raw, d_proc, _ = roots()
    raw, processed_root = raw or d_raw, processed_root or d_proc
    root = national_root(processed_root)
    fetched = national_cache(raw)
    regions, ind = build_national(raw / "snapshot", fetched)
    checks = nederland_check(fetched)
    manifest = write_national(root, regions, ind, store_sources(fetched), checks)
    for c in checks:
        if not c["klopt"]:
            log(
                f"let op: Nederland {c['indicator']} {c['year']}: som van de gemeenten "
                f"{c['som_gemeenten']:g} wijkt {c['verschil_relatief']:.1%} af van het gepubliceerde "
                f"{c['gepubliceerd']:g} ({c['bron']})"
            )
    scores = score_wijken(ind, regions, min_inwoners=int(settings()["min_inwoners"]))
    write_parquet(root / "resilience_scores.parquet", scores)
    buurten = ""
    if manifest.get("buurten"):
        buurten = (
            f", {manifest['buurten']} buurten uit de landelijke CBS-pull"
            f" ({manifest['buurten_zonder_inwoners']} zonder inwoners in de pull)"
        )
    log(
        f"build nederland: {manifest['rows']} indicatorrijen, {manifest['gemeenten']} gemeenten, "
        f"{manifest['wijken']} wijken{buurten} -> {root} (veerkracht in een gegroepeerde stap: "
        f"{int((scores['level'] == 'wijk').sum())} wijken"
        + (f", {int((scores['level'] == 'buurt').sum())} buurten)" if buurten else ")")
    )
    if manifest.get("live_cbs"):
        n = int((ind["origin"] == "cbs").sum())
        tables = ", ".join(f["table_id"] for f in manifest["live_cbs"])
        log(f"build nederland: {n} echte rijen uit de landelijke CBS-pull ({tables}) in {fetched}")
    return manifest


def views(
    scope: str,
    provincie: str | None,
    raw: Path | None = None,
    processed_root: Path | None = None,
    outputs_root: Path | None = None,
    only: list[str] | None = None,
    niveaus: list[str] | None = None,
) -> list[Paths]:
    """Per-municipality views for the scope, from the partitioned store (built first if missing, and
    rebuilt when buurten are asked for but the stored set was built without the buurt pull)."""
    d_raw, d_proc, d_out = roots()
    raw, processed_root, outputs_root = raw or d_raw, processed_root or d_proc, outputs_root or d_out
    root = national_root(processed_root)
    if scope == "provincie" and provincie_table(raw) is None:  # say so before a build of the country
        gemeenten_in_scope(pd.DataFrame({"level": [], "region_code": []}), scope, provincie, raw)
    if not has_store(root) or not (root / "resilience_scores.parquet").exists():
        build(raw, processed_root)
    regions = load_regions(root)
    if niveaus and "buurt" in niveaus and not (regions["level"] == "buurt").any():
        build(raw, processed_root)  # the buurt pull came after the last build
        regions = load_regions(root)
        if not (regions["level"] == "buurt").any():
            raise InputError(
                f"--niveau buurt: de landelijke buurtdownload in {national_cache(raw)} heeft geen buurt van "
                "een wijk van 2024; haal opnieuw op met `veerkracht fetch --scope nederland --niveau buurt`"
            )
    gms = gemeenten_in_scope(regions, scope, provincie, raw)
    if only:
        from analysis.national.store import gemeente_of

        wanted = set(gemeente_of(pd.Series(list(only))))
        unknown = sorted(set(only) - set(regions["region_code"]))
        if unknown:
            raise InputError(
                f"--only {' '.join(unknown)}: onbekende gebiedscode(s) (zie {root / 'regions.parquet'})"
            )
        gms = [g for g in gms if g in wanted]
    ind = read_partitioned(root / "indicators", gms + ["NL00"])
    scores = read_parquet(root / "resilience_scores.parquet")
    import json

    built_at = json.loads((root / "build_manifest.json").read_text(encoding="utf-8"))["built_at"]
    return write_views(root, outputs_root / NATIONAL, raw, regions, ind, scores, gms, built_at)
