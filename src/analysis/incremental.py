"""Incremental pipeline: each stage records what it read; a stage reruns only when that changed.

Every stage (build, resilience, goals, factsheets) writes, beside its outputs, a record
``.stage_<name>.json`` with the SHA-256 of each input it depends on:

* the configuration files it reads (YAML compared by content, so a comment-only edit is no change;
  ``settings.yaml`` without the sections only other stages use),
* the package code of the stage and the shared modules,
* the raw data tree (build only: ``data/raw`` without other municipalities' PDOK pulls and the
  national CBS cache),
* the options that change its result (``--no-cache``, ``--n-sim``),
* the recorded key of each upstream stage (a rebuilt build makes resilience and goals stale),

and the SHA-256 of each output file it wrote. `veerkracht report` reruns a stage when the record is
missing, an input differs or an output is missing or was edited; otherwise it says "ongewijzigd".
A run that fails keeps the earlier record (earlier outputs stay intact on bad input): if it got as far
as writing, the outputs no longer match the record, and the stage reruns next time.
A threshold change in config/resilience.yaml thus reruns resilience and the fact sheets, not the
build or the goals. The change summaries (``describe_*``) compare the stage's key table before and
after the rerun: "12 buurten van klasse veranderd".
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from pathlib import Path

import pandas as pd

from analysis.config import CONFIG_DIR, PROJ_ROOT, Paths, load_yaml
from analysis.io import write_json

PACKAGE = Path(__file__).resolve().parent
SHARED_CODE = ("__init__.py", "config.py", "config_models.py", "errors.py", "io.py", "records.py")
# settings.yaml sections that only other commands read (colophon: the sheets; pdok: `kaart`)
SETTINGS_NOT_FOR_DATA = ("colofon", "pdok")
# outputs a stage writes outside its own folder, as globs under outputs/<GM>/
OUTSIDE_OUTPUTS = {"goals": ("voortgangsrapportage*",)}


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    config: tuple[str, ...]  # files in config/
    code: tuple[str, ...]  # files or folders of the package
    upstream: tuple[str, ...] = ()
    raw: bool = False  # the raw data tree is an input


STAGES = {
    "build": Stage(
        "build", ("settings.yaml", "indicators.yaml", "cbs_tables.yaml"), ("processed", "sources"), raw=True
    ),
    "resilience": Stage("resilience", ("resilience.yaml",), ("resilience", "figures.py"), ("build",)),
    "goals": Stage("goals", ("doelen.yaml",), ("goals", "figures.py"), ("build",)),
    # Which sheets are re-rendered, and why, the sheet runner decides (factsheets/planning.py
    # fingerprint_inputs: template, code, every configuration file and table a sheet reads); this
    # record only tells `report` ahead whether sheet workers are worth starting early.
    "factsheets": Stage(
        "factsheets",
        ("settings.yaml", "indicators.yaml", "indicators_uitleg.yaml", "resilience.yaml", "doelen.yaml"),
        ("factsheets", "figures.py"),
    ),
}


def output_dir(stage: str, paths: Paths) -> Path:
    return paths.processed if stage == "build" else paths.outputs / stage


def record_path(stage: str, paths: Paths) -> Path:
    return output_dir(stage, paths) / f".stage_{stage}.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJ_ROOT))
    except ValueError:
        return str(path)


def _config_sha(name: str, stage: str) -> str:
    """Content of a YAML configuration file (comments and layout do not count)."""
    path = CONFIG_DIR / name
    data = _yaml_of(str(path), _file_sha(path)) if path.is_file() else load_yaml(path)
    if name == "settings.yaml" and stage != "factsheets":
        data = {k: v for k, v in data.items() if k not in SETTINGS_NOT_FOR_DATA}
    return _sha(json.dumps(data, sort_keys=True, default=str).encode())


@functools.lru_cache(maxsize=32)
def _yaml_of(path: str, file_sha: str) -> dict:
    """load_yaml of ``path``, remembered by the file's bytes: a file that did not change is parsed
    once per process, not once per stage asked about (read-only for callers)."""
    return load_yaml(Path(path))


def _code_files(stage: Stage) -> list[Path]:
    files = [PACKAGE / f for f in SHARED_CODE]
    for part in stage.code:
        p = PACKAGE / part
        files += sorted(f for f in p.rglob("*") if f.suffix in (".py", ".j2")) if p.is_dir() else [p]
    return files


def _raw_files(paths: Paths) -> list[Path]:
    """The raw data a build may read: everything under data/raw except other municipalities' PDOK
    pulls, the national CBS cache (`fetch --scope nederland`) and temporary files."""
    out = []
    for f in sorted(paths.raw.rglob("*")):
        rel = f.relative_to(paths.raw).parts
        if not f.is_file() or f.name.startswith(".") or f.suffix == ".tmp":
            continue
        if rel[0] == "pdok" and len(rel) > 1 and rel[1] != paths.gemeente:
            continue
        if rel[:2] == ("cbs", "nederland"):
            continue
        out.append(f)
    return out


def inputs(stage: str, paths: Paths, options: dict | None = None) -> dict[str, str]:
    """{input name: hash} of one stage, as it would be recorded now."""
    st = STAGES[stage]
    found = {f"config/{name}": _config_sha(name, stage) for name in st.config}
    code = hashlib.sha256()
    for f in _code_files(st):
        code.update(f.relative_to(PACKAGE).as_posix().encode() + _file_sha(f).encode())
    found["code"] = code.hexdigest()
    if st.raw:
        for f in _raw_files(paths):
            found[_shown(f)] = _file_sha(f)
    found["options"] = _sha(
        json.dumps({"gemeente": paths.gemeente, **(options or {})}, sort_keys=True).encode()
    )
    for up in st.upstream:
        found[f"stage {up}"] = (load(up, paths) or {}).get("key", "")
    return found


def _key(found: dict[str, str]) -> str:
    return _sha(json.dumps(found, sort_keys=True).encode())


def _outputs(stage: str, paths: Paths) -> dict[str, str]:
    root = output_dir(stage, paths)
    files = sorted(root.rglob("*")) if root.is_dir() else []
    found = {
        f.relative_to(root).as_posix(): _file_sha(f)
        for f in files
        if f.is_file() and not f.name.startswith(".") and f.suffix != ".tmp"
    }
    for pattern in OUTSIDE_OUTPUTS.get(stage, ()):  # written beside the stage's folder
        for f in sorted(paths.outputs.glob(pattern)):
            if f.is_file() and f.suffix != ".tmp":
                found[f"../{f.name}"] = _file_sha(f)
    return found


def load(stage: str, paths: Paths) -> dict | None:
    try:
        return json.loads(record_path(stage, paths).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record(stage: str, paths: Paths, options: dict | None = None) -> None:
    """After a successful run: what the stage read and what it wrote."""
    found = inputs(stage, paths, options)
    outputs = _outputs(stage, paths) if stage != "factsheets" else {}
    write_json(record_path(stage, paths), {"key": _key(found), "inputs": found, "outputs": outputs})


def changes(stage: str, paths: Paths, options: dict | None = None) -> list[str]:
    """Why ``stage`` must rerun (Dutch, one phrase each); empty: nothing changed."""
    prev = load(stage, paths)
    if prev is None:
        return ["geen eerdere run"]
    now = inputs(stage, paths, options)
    old = prev.get("inputs", {})
    why = []
    changed = sorted(k for k in now.keys() | old.keys() if now.get(k) != old.get(k))
    files = [k for k in changed if k not in ("code", "options") and not k.startswith("stage ")]
    if files:
        shown = ", ".join(files[:5]) + (f" en {len(files) - 5} andere" if len(files) > 5 else "")
        why.append(f"gewijzigd: {shown}")
    if "code" in changed:
        why.append("programmacode gewijzigd")
    if "options" in changed:
        why.append("andere opties")
    why += [f"{k.removeprefix('stage ')} opnieuw gedraaid" for k in changed if k.startswith("stage ")]
    if stage != "factsheets":
        have = _outputs(stage, paths)
        gone = [f for f in prev.get("outputs", {}) if f not in have]
        edited = [f for f, h in prev.get("outputs", {}).items() if f in have and have[f] != h]
        if gone:
            why.append(f"uitvoer ontbreekt ({gone[0]}{' ...' if len(gone) > 1 else ''})")
        if edited:
            why.append(f"uitvoer sinds de run gewijzigd ({edited[0]}{' ...' if len(edited) > 1 else ''})")
    return why


# --- what changed, in the words of the stage --------------------------------------------------------


def key_table(stage: str, paths: Paths) -> pd.DataFrame | None:
    """The table whose rows `describe` compares before and after a rerun (None: not there yet)."""
    path = {
        "build": paths.indicators,
        "resilience": paths.outputs / "resilience" / "scores.parquet",
        "goals": paths.outputs / "goals" / "status.parquet",
    }.get(stage)
    if path is None or not path.exists():
        return None
    try:
        return pd.read_parquet(path)
    except Exception:  # noqa: BLE001 - an unreadable old table only means: no comparison
        return None


def _compare(old: pd.DataFrame, new: pd.DataFrame, keys: list[str], cols: list[str]):
    """(rows changed in any of ``cols``, rows new, rows gone), matched on ``keys``."""
    cols = [c for c in cols if c in old.columns and c in new.columns]
    m = old[keys + cols].merge(new[keys + cols], on=keys, how="outer", suffixes=("_o", "_n"), indicator=True)
    both = m[m["_merge"] == "both"]
    diff = pd.Series(False, index=both.index)
    for c in cols:
        a, b = both[f"{c}_o"], both[f"{c}_n"]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
            same = ((a - b).abs() <= 1e-9 * (1 + b.abs())) | (a.isna() & b.isna())
        else:
            same = (a.astype(str) == b.astype(str)) | (a.isna() & b.isna())
        diff |= ~same
    return both[diff], int((m["_merge"] == "right_only").sum()), int((m["_merge"] == "left_only").sum())


def _n(n: int, one: str, more: str) -> str:
    return f"{n} {one if n == 1 else more}"


def describe(stage: str, old: pd.DataFrame | None, new: pd.DataFrame | None) -> str:
    """One Dutch phrase: what the rerun changed in the stage's key table."""
    if new is None:
        return "geen uitvoer"
    if old is None:
        return "nieuw gemaakt"
    if stage == "build":
        changed, n_new, n_gone = _compare(
            old, new, ["region_code", "indicator", "year"], ["value", "origin", "provisional", "coverage"]
        )
        what = _n(len(changed), "indicatorwaarde", "indicatorwaarden")
        return f"{what} veranderd, {n_new} nieuw, {n_gone} vervallen"
    if stage == "resilience":
        b_old, b_new = old[old["level"] == "buurt"], new[new["level"] == "buurt"]
        klasse, n_new, n_gone = _compare(b_old, b_new, ["region_code"], ["signaal"])
        scores, _, _ = _compare(b_old, b_new, ["region_code"], ["A_niveau_gemeente", "B_niveau_gemeente"])
        text = (
            f"{_n(len(klasse), 'buurt', 'buurten')} van klasse veranderd, "
            f"{_n(len(scores), 'buurt', 'buurten')} met een andere score"
        )
        return text + (f", {n_new} nieuw, {n_gone} vervallen" if n_new or n_gone else "")
    if stage == "goals":
        changed, n_new, n_gone = _compare(
            old.fillna({"region_code": ""}),
            new.fillna({"region_code": ""}),
            ["doel_id", "region_code"],
            ["status"],
        )
        what = _n(len(changed), "doelstatus", "doelstatussen")
        return f"{what} veranderd, {n_new} nieuw, {n_gone} vervallen"
    return ""
