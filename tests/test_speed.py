"""Speed work that must not change results: workers started ahead of the data (``veerkracht report``)
make the same sheets as a batch that starts its own; the report's side-by-side stages keep the
printed output and exit codes of stages run one after the other."""

from __future__ import annotations

import argparse
import json
import shutil

from analysis import cli
from analysis.config import Paths
from analysis.factsheets import runner
from analysis.factsheets.runner import likely_to_render, prestart_workers, run_batch
from tests.conftest import TWO_SHEETS, descendants

A = TWO_SHEETS[0]


def _scratch(analysed, root) -> Paths:
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=root / "outputs")
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    return p


def test_prestarted_workers_make_the_same_sheets_and_are_gone_afterwards(two_sheets, reversed_sheets):
    """sheet_fixtures.reversed_sheets: the two sheets by a batch on prestarted workers; conftest.two_sheets:
    the same two by a batch that started its own worker (force, 1 worker). Byte for byte equal (breakage
    caught: a prestarted kernel that misses the tables or the import warm-up makes other pages), and the
    batch shut the prestarted workers down (breakage caught: run_batch not killing a pool it was handed)."""
    _, _, own = two_sheets
    assert sorted(own) == sorted(TWO_SHEETS)
    res, _, pre, prestarted = reversed_sheets
    assert prestarted.workers  # prestart_workers forked them before run_batch knew the tables
    assert res["ok"] == 2
    assert {code: pre[code] for code in TWO_SHEETS} == {code: path.read_bytes() for code, path in own.items()}
    # the batch shut the prestarted workers down (seen when run_batch returned, pool still held)
    assert not prestarted.alive_after_batch, prestarted.alive_after_batch


def test_prestarted_workers_are_stopped_when_nothing_is_rendered(analysed, two_sheets, tmp_path, monkeypatch):
    import os

    from analysis.factsheets import execution

    p = _scratch(analysed, tmp_path)
    # an earlier complete batch (conftest.two_sheets) in which A is up to date
    shutil.copytree(analysed.outputs / "factsheets", p.outputs / "factsheets")
    # the kernel is stopped before it renders anything: no need for it to import the sheet's modules
    monkeypatch.setattr(execution, "IMPORT_WARM", "pass")
    pool = prestart_workers(1)
    workers = set((pool._processes or {}).keys())
    res = run_batch(p, only=[A], progress=False, pool=pool)  # unchanged: skipped
    # nothing rendered: A is unchanged, the other sheet of that batch is kept as it was
    assert res["ok"] == 0 and res["failed"] == 0 and res["skipped"] == len(TWO_SHEETS)
    assert not (descendants(os.getpid()) & workers)


def test_kernels_are_started_ahead_only_when_sheets_will_probably_be_made(tmp_path):
    p = Paths(raw=tmp_path / "raw", processed=tmp_path / "processed", outputs=tmp_path / "outputs")
    assert likely_to_render(p)  # no manifest yet
    m = p.outputs / "factsheets" / "manifest.json"
    m.parent.mkdir(parents=True)
    m.write_text(json.dumps({"areas": [{"area": A, "status": "ok"}]}))
    assert not likely_to_render(p)  # a complete earlier batch: probably all unchanged
    assert likely_to_render(p, force=True)
    m.write_text(json.dumps({"areas": [{"area": A, "status": "ok"}, {"area": "FG03", "status": "failed"}]}))
    assert likely_to_render(p)
    m.write_text("{oops")
    assert likely_to_render(p)


def test_goals_beside_resilience_keeps_output_order_and_bad_input_exit_code(monkeypatch, capsys, tmp_path):
    """cmd_report runs goals in a forked child: its lines come after resilience's, as before, and an
    input error in it is still the one ``fout:`` line with exit code 2."""
    from analysis.errors import InputError

    calls = []

    def fake(name, rc=0, exc=None):
        def fn(ns):
            calls.append(name)
            print(f"{name} klaar")
            if exc:
                raise exc
            return rc

        return fn

    monkeypatch.setattr(cli.stages, "cmd_build", fake("build"))
    monkeypatch.setattr(cli.stages, "cmd_resilience", fake("resilience"))
    monkeypatch.setattr(cli.stages, "cmd_goals", fake("goals", rc=1))
    monkeypatch.setattr(cli.stages, "cmd_factsheets", fake("factsheets"))
    monkeypatch.setattr(runner, "likely_to_render", lambda paths, force=False: False)
    ns = argparse.Namespace(
        only=None,
        force=False,
        workers=1,
        force_workers=False,
        paths=Paths(raw=tmp_path, processed=tmp_path / "processed", outputs=tmp_path / "outputs"),
        scope=None,
        niveau=None,
        scheduler=None,
    )
    assert cli.cmd_report(ns) == 1  # the goals stage's exit code counts
    out = capsys.readouterr().out
    order = [ln.split()[0] for ln in out.splitlines() if ln.endswith(" klaar")]
    assert order == ["build", "resilience", "goals", "factsheets"]
    assert "goals" not in calls  # it ran in the child process, not here

    monkeypatch.setattr(cli.stages, "cmd_goals", fake("goals", exc=InputError("status.parquet: kapot")))
    monkeypatch.setattr(
        cli, "_resolve_gemeente", lambda g: Paths(raw=tmp_path, processed=tmp_path, outputs=tmp_path)
    )
    monkeypatch.setattr(cli, "_clean_temps", lambda p: None)
    assert cli.main(["report"]) == 2
    cap = capsys.readouterr()
    assert cap.err.strip().splitlines()[-1] == "fout: status.parquet: kapot"
    assert "factsheets klaar" not in cap.out  # stopped after the failing stage, as before


def test_the_batch_imports_jsonschema_without_the_iri_grammars():
    """lean_imports: jsonschema (through papermill/nbformat) without rfc3987_syntax, whose import
    compiles 38 Lark grammars (~1.1 CPU-s per batch process and worker); every other format checker
    stays, and rfc3987_syntax stays importable. On a fresh jsonschema module, restored afterwards."""
    import importlib.util
    import sys

    from analysis.factsheets.lean_imports import jsonschema_without_iri_checker

    def ours(name: str) -> bool:
        return name == "jsonschema" or name.startswith(("jsonschema.", "rfc3987_syntax"))

    saved = {k: sys.modules.pop(k) for k in [k for k in sys.modules if ours(k)]}
    try:
        jsonschema_without_iri_checker()
        assert "rfc3987_syntax" not in sys.modules  # its grammars were not compiled
        checkers = sys.modules["jsonschema"].FormatChecker.checkers
        assert "iri" not in checkers and "iri-reference" not in checkers
        assert {"email", "ipv4", "date", "regex"} <= set(checkers)
        assert importlib.util.find_spec("rfc3987_syntax") is not None  # not hidden any longer
    finally:
        for k in [k for k in sys.modules if ours(k)]:
            del sys.modules[k]
        sys.modules.update(saved)
