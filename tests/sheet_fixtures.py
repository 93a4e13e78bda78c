"""Shared fixture of the fact-sheet batch tests (registered in tests/conftest.py via ``pytest_plugins``).

* ``reversed_sheets``: the two TWO_SHEETS sheets rendered a second time, by one batch on workers
  started ahead (``prestart_workers``, one worker = one kernel), in the other order than
  ``conftest.two_sheets`` and after a sheet that fails: FG05 (forced to fail, ``fail_area``), then
  the focus area B, then the buurt A. One real batch serves three properties, each asserted by its
  own test against ``two_sheets`` (byte for byte):

  - tests/test_factsheets.py: a sheet does not depend on the sheet before it in the same kernel
    (B after no rendered sheet here, after A in two_sheets; A first there, after B here), and a
    failing sheet does not stop the batch (the sheets after it are made, unchanged);
  - tests/test_speed.py: prestarted workers make the same sheets and are gone afterwards.

Read-only: tests copy before changing anything.
"""

from __future__ import annotations

import json
import os
import shutil
from types import SimpleNamespace

import pytest

from analysis.config import Paths

FAILING = "FG05"  # forced to fail (Sheet.load's forceer_fout) before the two sheets


@pytest.fixture(scope="session")
def reversed_sheets(analysed, tmp_path_factory: pytest.TempPathFactory):
    """(result, manifest, {area: page bytes}, prestarted): ``prestarted.workers`` the process ids of
    the prestarted workers, ``prestarted.alive_after_batch`` those of them still running when
    run_batch returned (read at once, while this fixture still holds the pool: a pool that is let go
    is shut down by the garbage collector, which would hide a batch that does not stop it)."""
    from analysis.factsheets.runner import prestart_workers, run_batch
    from tests.conftest import TWO_SHEETS, descendants

    a, b = TWO_SHEETS
    root = tmp_path_factory.mktemp("reversed")
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=root / "outputs")
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    pool = prestart_workers(1)  # started before it knows the tables: imports only, tables per sheet
    workers = set((pool._processes or {}).keys())
    res = run_batch(p, only=[FAILING, b, a], force=True, progress=False, pool=pool, fail_area=FAILING)
    alive = descendants(os.getpid()) & workers
    manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
    pages = {
        e["area"]: (p.outputs / "factsheets" / e["file"]).read_bytes()
        for e in manifest["areas"]
        if e["status"] == "ok"
    }
    return res, manifest, pages, SimpleNamespace(workers=workers, alive_after_batch=alive, pool=pool)
