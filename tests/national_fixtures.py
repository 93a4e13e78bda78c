"""Shared fixtures of the national tests (registered in tests/conftest.py via ``pytest_plugins``).

* ``national_store``: ONE offline ``national.build`` of the whole country per session (the bundled
  all-NL data, no live pull), read by tests/test_national.py and tests/test_national_sheets.py.
  Read-only: tests write their views' sheets to outputs folders of their own (the per-municipality
  views in ``<processed>/nederland/gemeenten/`` are rewritten only when their content changes, so
  two modules asking views of the same municipality share identical files).
* ``national_pages``: ONE fork-pool run (one worker, one kernel) of the sheets both modules read
  (``NATIONAL_SHEETS``) from ``national_store``: tests/test_national.py compares its Dask pages with
  these bytes, tests/test_national_sheets.py reads their text.
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
from types import SimpleNamespace

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


# the areas of the national fork-pool run: tests/test_national.py's ONLY (Schiermonnikoog, two of
# Amsterdam's alphanumeric wijken) and tests/test_national_sheets.py's (Zwijndrecht, Walburg, WK0363AA)
NATIONAL_SHEETS = ("GM0088", "WK008800", "WK0363AA", "WK0363AB", "GM0642", "WK064201")


def spy_on_finish(monkeypatch) -> tuple[list, list]:
    """Per call of manifest.finish: (municipality, sheets recorded in the whole batch so far); and the
    codes recorded (manifest entries), in order."""
    from analysis.factsheets import manifest

    calls, recorded = [], []
    real_finish, real_entry = manifest.finish, manifest.manifest_entry

    def finish(p, *a, **k):
        calls.append((p.paths.gemeente, len(recorded)))
        return real_finish(p, *a, **k)

    def entry(a, *args, **kwargs):
        recorded.append(a.region_code)
        return real_entry(a, *args, **kwargs)

    monkeypatch.setattr(manifest, "finish", finish)
    monkeypatch.setattr(manifest, "manifest_entry", entry)
    return calls, recorded


@pytest.fixture(scope="session")
def national_pages(national_store: Path, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The fork pool's sheets of ``NATIONAL_SHEETS``, rendered ONCE per session from ``national_store``:
    all their municipalities in one pool of one worker (one kernel), each sheet into its own
    municipality's folder of an outputs folder of this fixture. Read-only. Fields: ``summary`` (of
    run_batch), ``calls`` (:func:`spy_on_finish`), ``views``, ``pages`` (``{"<gemeente>/<file>":
    bytes}``, the overview pages included), ``outputs`` (the ``outputs/nederland`` folder)."""
    from analysis.factsheets.runner import run_batch
    from analysis.national import run as national

    outputs = tmp_path_factory.mktemp("nl_pages") / "outputs"
    only = list(NATIONAL_SHEETS)
    views = national.views("nederland", None, RAW, national_store, outputs, only=only)
    with pytest.MonkeyPatch.context() as mp:
        calls, _ = spy_on_finish(mp)
        summary = run_batch(views, only=only, force=True, workers=1, force_workers=True, progress=False)
    pages = {
        f"{p.gemeente}/{f.name}": f.read_bytes()
        for p in views
        for f in sorted((p.outputs / "factsheets").glob("*.html"))
    }
    return SimpleNamespace(
        summary=summary, calls=list(calls), views=views, pages=pages, outputs=outputs / "nederland"
    )
