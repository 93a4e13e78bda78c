"""Shared fixtures of the national tests (registered in tests/conftest.py via ``pytest_plugins``).

* ``national_store``: ONE offline ``national.build`` of the whole country per session (the bundled
  all-NL data, no live pull), read by tests/test_national.py and tests/test_national_sheets.py.
  Read-only: tests write their views' sheets to outputs folders of their own (the per-municipality
  views in ``<processed>/nederland/gemeenten/`` are rewritten only when their content changes, so
  two modules asking views of the same municipality share identical files).
* ``small_snapshot``: the bundled snapshot with its all-NL KWB files (2016, 2017, 2024) cut down to a
  few municipalities (``SMALL_GEMEENTEN``, every row of theirs kept as it is; the other snapshot
  folders linked unchanged). For tests whose property does not need the whole country (real values
  of a pull before the synthetic fill, buurten from a buurt pull, the grouped pass per
  municipality): the national build over five municipalities instead of 342. Where the property is
  about the whole country (Nederland = the sum over every gemeente of that year, 342 gemeenten in
  scope) the tests use the full snapshot or ``national_store``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from analysis.config import PROJ_ROOT

RAW = PROJ_ROOT / "data" / "raw"
SNAPSHOT = RAW / "snapshot"
# Groningen, Schiermonnikoog (one wijk), Amsterdam (alphanumeric wijk codes), Dordrecht, Zwijndrecht
SMALL_GEMEENTEN = ("GM0014", "GM0088", "GM0363", "GM0505", "GM0642")
# the all-NL files the national build reads (sources/snapshot_national.py); the rest are linked
KWB_NATIONAL_FILES = (
    "kwb_2016_gemeente_nl.csv.gz",
    "kwb_2016_wijk_nl.csv.gz",
    "kwb_2017_gemeente_nl.csv.gz",
    "kwb_2017_wijk_nl.csv.gz",
    "kwb_2024_gemeente_wijk_nl.csv.gz",
)


def plant_snapshot(dest: Path, gemeenten: tuple[str, ...] = SMALL_GEMEENTEN) -> Path:
    """A snapshot folder at ``dest``: the bundled one, its all-NL KWB files holding only the rows of
    ``gemeenten`` (their GM and WK records; the first column is the GM/WK code)."""
    numbers = {g[2:6] for g in gemeenten}
    dest.mkdir(parents=True)
    for entry in SNAPSHOT.iterdir():
        if entry.name != "national":
            (dest / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    national = dest / "national"
    national.mkdir()
    for f in sorted((SNAPSHOT / "national").iterdir()):
        if f.name not in KWB_NATIONAL_FILES:
            (national / f.name).symlink_to(f)
            continue
        with gzip.open(f, "rt", encoding="utf-8", newline="") as fh:
            header, *rows = fh.readlines()
        kept = [r for r in rows if r[:2] in ("GM", "WK") and r[2:6] in numbers]
        assert {r[2:6] for r in kept} == numbers, f.name  # every planted municipality is in each file
        with gzip.open(national / f.name, "wt", encoding="utf-8", newline="") as out:
            out.writelines([header, *kept])
    return dest


@pytest.fixture(scope="session")
def small_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled snapshot cut down to ``SMALL_GEMEENTEN`` (see the module docstring). Read-only."""
    return plant_snapshot(tmp_path_factory.mktemp("small") / "snapshot")


@pytest.fixture(scope="session")
def national_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processed root of one offline ``national.build(RAW, ...)`` of the whole country (store,
    regions, resilience scores, manifest in ``<root>/nederland``), built once per session. Read-only."""
    from analysis.national import run as national

    processed = tmp_path_factory.mktemp("nl_store") / "processed"
    national.build(RAW, processed, log=lambda line: None)
    return processed
