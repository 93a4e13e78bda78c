"""The batch's record: manifest entries per sheet, the manifest and overview page of each processed
set (written as soon as its last sheet is in), and the run's summary.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from analysis.io import write_json

if TYPE_CHECKING:
    from analysis.factsheets.planning import Plan


def _read_previous(manifest_path: Path, out: Path, areas: pd.DataFrame) -> dict[str, dict]:
    """Entries of the last manifest. An unreadable manifest is rebuilt from the sheets on disk (they
    stay listed and are re-rendered on the next run), so ``--only`` cannot shrink the overview."""
    if not manifest_path.exists():
        return {}
    try:
        entries = json.loads(manifest_path.read_text(encoding="utf-8"))["areas"]
        return {e["area"]: e for e in entries}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        recovered = {}
        for a in areas[areas["sheet"]].itertuples():
            if (out / f"{a.slug}.html").exists():
                recovered[a.region_code] = {
                    "area": a.region_code,
                    "name": a.name,
                    "level": a.level,
                    "slug": a.slug,
                    "file": f"{a.slug}.html",
                    "fingerprint": None,
                    "status": "ok",
                    "seconds": None,
                    "error": None,
                }
        print(
            f"let op: {manifest_path} onleesbaar ({type(exc).__name__}); "
            f"{len(recovered)} bestaande bladen uit de map overgenomen",
            file=sys.stderr,
        )
        return recovered


def manifest_entry(a, res: dict, fp: str) -> dict:
    """The manifest entry of a sheet rendered in this run (``a``: its row of the area list)."""
    ok = res["status"] == "ok"
    return {
        "area": a.region_code,
        "name": a.name,
        "level": a.level,
        "slug": a.slug,
        "file": f"{a.slug}.html" if ok else None,
        "fingerprint": fp if ok else None,
        "skipped": False,
        **res,
    }


def keep_unreached(plans: list[Plan]) -> None:
    """After an interruption, areas not reached keep their previous entry (if the sheet is still there)."""
    for p in plans:
        for a in p.todo:
            prev = p.previous.get(a.region_code)
            if a.region_code not in p.entries and prev is not None and (p.out / f"{a.slug}.html").exists():
                p.entries[a.region_code] = {**prev, "skipped": True}


def complete(p: Plan, n_workers: int, t0: float, template: Path) -> None:
    """Write this set's manifest and overview page as soon as all its sheets are in.

    A run over many municipalities shows each finished municipality while the others still render,
    and the batch does not end with a serial pass over all overview pages (:func:`summarise` skips
    the sets written here). ``wall_seconds`` of such a manifest: from the batch start to this set's
    last sheet."""
    if p.manifest is None and all(a.region_code in p.entries for a in p.todo):
        p.manifest = finish(p, n_workers, time.perf_counter() - t0, False, template)


def finish(p: Plan, n_workers: int, wall: float, interrupted: bool, template: Path) -> dict:
    """Write the manifest and the overview page of one processed set; returns the manifest."""
    from analysis.factsheets.overview import write_index

    ordered = [p.entries[c] for c in p.areas["region_code"] if c in p.entries]
    manifest = {
        "template": str(template.name),
        "workers": n_workers,
        "wall_seconds": round(wall, 2),
        "interrupted": interrupted,
        "pruned": p.pruned,
        "areas": ordered,
        "no_sheet": p.areas.loc[~p.areas["sheet"], ["region_code", "name", "level", "reden"]]
        .rename(columns={"region_code": "area"})
        .to_dict("records"),
    }
    write_json(p.out / "manifest.json", manifest)
    if p.inputs:  # what this fingerprint stands for: the next batch can say what changed
        from analysis.factsheets.planning import remember_inputs

        remember_inputs(p.out, p.fingerprint, p.inputs)
    write_index(p.paths, p.areas, manifest, p.regions)
    return manifest


def summarise(plans: list[Plan], n_workers: int, wall: float, interrupted: bool, template: Path) -> dict:
    """Manifests and overview pages of every set; the summary (ok/skipped/failed/pruned, summed over
    the sets, and ``per_gemeente`` when there are several). Re-raises an interruption after writing."""
    per, total = {}, {"ok": 0, "skipped": 0, "failed": 0, "pruned": []}
    failed_all = []
    for p in plans:  # a set completed during the run keeps the manifest written then
        ordered = (p.manifest or finish(p, n_workers, wall, interrupted, template))["areas"]
        failed = [e for e in ordered if e["status"] == "failed" and not e.get("skipped")]
        failed_all += failed
        s = {
            "dir": p.out,
            "ok": sum(1 for e in ordered if e["status"] == "ok" and not e.get("skipped")),
            "skipped": sum(1 for e in ordered if e.get("skipped")),
            "failed": len(failed),
            "pruned": p.pruned,
        }
        per[p.paths.gemeente] = s
        for k in ("ok", "skipped", "failed"):
            total[k] += s[k]
        total["pruned"] += p.pruned
    if not interrupted and not failed_all:
        for p in plans:
            prune_charts(p)
    if interrupted:
        n = sum(len(p.entries) for p in plans)
        raise KeyboardInterrupt(f"factsheets afgebroken; manifest met {n} bladen geschreven")
    for e in failed_all:
        print(f"factsheet {e['area']} mislukt: {e['error']}")
    out_dir = plans[0].out if len(plans) == 1 else plans[0].paths.outputs.parent
    why: dict[str, int] = {}  # Dutch reason -> sheets rendered for it (planning.why_rerendered)
    for p in plans:
        for reason, n in p.why.items():
            why[reason] = why.get(reason, 0) + n
    res = {**total, "dir": out_dir, "wall_seconds": wall, "workers": n_workers, "why": why}
    return res if len(plans) == 1 else {**res, "per_gemeente": per}


def prune_charts(p: Plan) -> int:
    """After a batch that rendered every sheet of the set: drop the stored charts (analysis.reuse)
    that none of them used, so the store holds one batch's charts, not every batch's. A partial
    batch (``--only``, unchanged sheets skipped) keeps them: the skipped sheets may need them."""
    from analysis.reuse import Store, cache_root

    if len(p.todo) != int(p.areas["sheet"].sum()):
        return 0
    return Store(cache_root(p.paths.outputs) / "grafieken").prune(used_since=p.started - 2.0)
