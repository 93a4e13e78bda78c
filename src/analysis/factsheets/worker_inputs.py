"""Inputs of a sheet batch for workers that do not share the client's file system.

A Dask worker on another machine (Kubernetes, a cloud cluster) or in another folder cannot read the
client's paths. The client packs every file a sheet reads for one processed set (the tables of
:func:`analysis.factsheets.sheet.load_context`, a few MB for a municipality) and the template into
plain bytes; they travel through the scheduler (``client.scatter``) and each worker unpacks them once
into its own temporary folder, keyed by their content hash, and renders from there. The finished
HTML goes back to the client, which writes it (:mod:`analysis.factsheets.dask_runner`).

The configuration files and the two snapshot files a sheet reads outside its processed set
(:data:`analysis.factsheets.planning.SHEET_CONFIG`/``SHEET_SNAPSHOT``, ~2 MB) travel too
(:func:`pack_project`): the worker unpacks them into a project folder of their own and runs its kernel
with ``VEERKRACHT_ROOT`` pointing there, so a worker needs the installed package and nothing of the
project's folder. The code cannot travel: the client sends its digest (:func:`local_digests`) and a
worker whose installed code differs fails the run with one error (:func:`differing`), never a
different sheet.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from analysis.config import Paths
from analysis.factsheets.execution import paths_to_params

# every file a sheet reads, relative to its processed set's (processed, outputs) folders
SHEET_INPUTS = (
    ("processed", "indicators.parquet"),
    ("processed", "regions.gpkg"),
    ("processed", "build_manifest.json"),
    ("outputs", "resilience/scores.parquet"),
    ("outputs", "resilience/gevoeligheid.parquet"),
    ("outputs", "resilience/bijdragen.parquet"),
    ("outputs", "resilience/nationaal_lbm2_niveau.parquet"),
    ("outputs", "goals/status.parquet"),
    ("outputs", "goals/prognoses.parquet"),
)


def pack_inputs(paths: Paths) -> dict:
    """The files of one processed set a sheet reads (those that exist), as bytes, with their hash."""
    files = {}
    for root, rel in SHEET_INPUTS:
        f = getattr(paths, root) / rel
        if f.exists():
            files[f"{root}/{rel}"] = f.read_bytes()
    h = hashlib.sha256(paths.gemeente.encode())
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return {"gemeente": paths.gemeente, "digest": h.hexdigest()[:32], "files": files}


def pack_template(template: Path) -> dict:
    data = Path(template).read_bytes()
    return {"name": Path(template).name, "digest": hashlib.sha256(data).hexdigest()[:32], "data": data}


def local_digests() -> dict[str, str]:
    """{name: hash} of what a sheet reads in THIS process and cannot come with the bundle: the
    package code and library versions (``programmacode``, as the sheet fingerprints hash it)."""
    from analysis.reuse import code_version

    return {"programmacode": code_version()}


def differing(expected: dict[str, str], where: str) -> str | None:
    """One Dutch line naming what of this process differs from the client's ``expected`` digests,
    or None when all match. ``where`` names the worker."""
    mine = local_digests()
    for name, digest in expected.items():
        if mine.get(name) != digest:
            what = (
                "de programmacode (pakket analysis of een bibliotheekversie)"
                if name == "programmacode"
                else name
            )
            return f"worker {where}: {what} verschilt van die van de client"
    return None


def pack_project() -> dict:
    """config/*.yaml and the snapshot files a sheet reads (those the client has), as bytes, keyed by
    their place in a project folder, with their hash."""
    from analysis import config
    from analysis.factsheets.planning import SHEET_CONFIG, SHEET_SNAPSHOT

    places = {f"config/{n}": config.CONFIG_DIR / n for n in SHEET_CONFIG}
    places.update({f"data/raw/snapshot/{n}": config.SNAPSHOT_DIR / n for n in SHEET_SNAPSHOT})
    files = {name: f.read_bytes() for name, f in places.items() if f.exists()}
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return {"digest": h.hexdigest()[:32], "files": files}


def unpack_project(bundle: dict) -> str:
    """Write the project files into this worker's cache (once per content); the folder to use as
    the kernel's ``VEERKRACHT_ROOT``."""
    root = _cache_root() / "project" / bundle["digest"]
    for name, data in bundle["files"].items():
        _write_once(root / name, data)
    (root / "config").mkdir(parents=True, exist_ok=True)
    return str(root)


def _cache_root() -> Path:
    return Path(tempfile.gettempdir()) / f"veerkracht-dask-{os.getuid() if hasattr(os, 'getuid') else 0}"


def _write_once(path: Path, data: bytes) -> None:
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # several worker processes on one host may unpack the same set


def unpack_inputs(bundle: dict) -> dict[str, str]:
    """Write the bundle into this worker's cache (once per content) and return the notebook
    parameters (``paden``) that point the sheet at it."""
    root = _cache_root() / bundle["digest"]
    for name, data in bundle["files"].items():
        _write_once(root / name, data)
    (root / "processed").mkdir(parents=True, exist_ok=True)
    (root / "outputs").mkdir(parents=True, exist_ok=True)
    return paths_to_params(
        Paths(processed=root / "processed", outputs=root / "outputs", gemeente=bundle["gemeente"])
    )


def unpack_template(bundle: dict) -> str:
    path = _cache_root() / "templates" / bundle["digest"] / bundle["name"]
    _write_once(path, bundle["data"])
    return str(path)
