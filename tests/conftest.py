from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from analysis.config import PROJ_ROOT, Paths

TEST_DATA = Path(__file__).parent / "data"

# national_store, small_snapshot; reversed_sheets
pytest_plugins = ["tests.national_fixtures", "tests.sheet_fixtures"]


@pytest.fixture
def tmp_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A private copy of data/raw with empty processed/outputs folders, wired via env vars."""
    raw = tmp_path / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs"))
    paths = Paths(raw=raw, processed=tmp_path / "processed", outputs=tmp_path / "outputs")
    monkeypatch.setenv("VEERKRACHT_RAW", str(paths.raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(paths.processed))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(paths.outputs))
    return paths


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory):
    """One processed build (offline, bundled data) shared by the analysis tests."""
    from analysis.processed.build import build, write

    root = tmp_path_factory.mktemp("built")
    raw = root / "raw"
    shutil.copytree(PROJ_ROOT / "data" / "raw", raw, ignore=shutil.ignore_patterns("cbs"))
    paths = Paths(raw=raw, processed=root / "processed", outputs=root / "outputs")
    result = build(paths, use_cache=False)
    write(result, paths)
    return paths, result


def _analyse(paths: Paths, outputs: Path) -> None:
    """One resilience and one goals run on the build at ``paths``, written to ``outputs``."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from analysis.goals.run import run as run_goals
    from analysis.resilience.run import run as run_res

    p = Paths(raw=paths.raw, processed=paths.processed, outputs=outputs)
    # both read only the build: goals in a forked process beside resilience, as `veerkracht report` does
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as side:
        goals = side.submit(run_goals, p)
        run_res(p, n_sim=100)
        goals.result()


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make) -> Path:
    """A folder made by ``make(folder)`` once per test run, shared by the pytest-xdist workers.

    The first worker to ask makes it under a file lock in the run's common temp folder; the others
    wait for it and get the same folder. Without xdist it is an ordinary temp folder. Read-only:
    callers copy it. (The xdist documentation's pattern for session data made once.)"""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = tmp_path_factory.mktemp(name)
        make(folder)
        return folder
    from filelock import FileLock

    common = tmp_path_factory.getbasetemp().parent  # the same for every worker of this run
    folder = common / name
    with FileLock(str(common / f"{name}.lock"), timeout=1800):  # a worker stuck making it fails the other
        if not (common / f"{name}.done").exists():
            shutil.rmtree(folder, ignore_errors=True)  # a half-made folder of a crashed worker
            folder.mkdir()
            make(folder)
            (common / f"{name}.done").touch()
    return folder


@pytest.fixture(scope="session")
def analysed(built, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """The shared build plus one resilience and one goals run, made once per test run (shared by the
    xdist workers through :func:`once_per_run`; every worker's build is the same) and copied into
    this worker's own folder.

    Read-only for tests: copy ``outputs/resilience`` and ``outputs/goals`` before changing them."""
    paths, _ = built
    shared = once_per_run(tmp_path_factory, "analysed", lambda out: _analyse(paths, out))
    own = tmp_path_factory.mktemp("analysed")
    shutil.copytree(shared, own, dirs_exist_ok=True)
    return Paths(raw=paths.raw, processed=paths.processed, outputs=own)


# a buurt and a focus area (Planetenbuurt, Dichtersbuurt midden): the sheets of `two_sheets`
TWO_SHEETS = ("BU06420305", "FG03")


@pytest.fixture(scope="session")
def two_sheets(analysed):
    """One fork-pool batch of the two TWO_SHEETS sheets into ``analysed.outputs/factsheets``, one
    worker and one kernel: the buurt runs before the focus area (test_factsheets' isolation test
    reverses the order; test_speed compares prestarted workers with it). Read-only: copy first."""
    from analysis.factsheets.runner import run_batch

    res = run_batch(analysed, only=list(TWO_SHEETS), force=True, workers=1, progress=False)
    manifest = json.loads((analysed.outputs / "factsheets" / "manifest.json").read_text())
    files = {e["area"]: analysed.outputs / "factsheets" / e["file"] for e in manifest["areas"]}
    return res, manifest, files


def use_paths(monkeypatch: pytest.MonkeyPatch, paths: Paths) -> None:
    """Point the CLI (default_paths) at ``paths``."""
    monkeypatch.setenv("VEERKRACHT_RAW", str(paths.raw))
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(paths.processed))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(paths.outputs))


def descendants(pid: int) -> set[int]:
    """All living descendant process ids of ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        if fields[0] == "Z":  # zombie: already dead, waiting to be reaped
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def kwb_meta() -> dict[str, list]:
    folder = TEST_DATA / "cbs_85984NED"
    return {
        n: json.loads((folder / f"{n}.json").read_text())
        for n in ("TableInfos", "DataProperties", "CategoryGroups")
    }


# gemeente, focus area, buurt, wijk: whole pages, charts and map included
RENDERED_AREAS = ["GM0642", "FG03", "BU06420305", "WK064203"]


@pytest.fixture(scope="session")
def rendered(analysed, tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """One fork-pool batch of the four kinds of sheet (RENDERED_AREAS) plus the overview, on the
    shared analysis, rendered once for the spelling and the accessibility checks. Read-only."""
    from analysis.factsheets.runner import run_batch

    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path_factory.mktemp("rendered"))
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    res = run_batch(p, only=RENDERED_AREAS, force=True, workers=2, progress=False)
    assert res["ok"] == len(RENDERED_AREAS) and res["failed"] == 0, res
    return p


# pytest-xdist (`make test`: `-n 2 --dist loadscope`): one work unit per module, so a module's tests run
# in their order on one worker and its module fixtures are made once; modules that share an expensive
# session fixture form one unit, so that fixture is made once per run, not once per worker.
XDIST_GROUPS = {
    "test_accessibility": "rendered",  # conftest.rendered
    "test_spelling": "rendered",
    "test_factsheets": "two_sheets",  # conftest.two_sheets
    "test_speed": "two_sheets",
    "test_national": "national_store",  # the national build of the whole country
    "test_national_sheets": "national_store",
}


# the units that take longest (from `--durations` of a quiet run): started
# first, so that no long unit is left to run alone at the end
XDIST_LONG_FIRST = (
    "national_store",
    "two_sheets",
    "test_bad_input",
    "test_progress",
    "rendered",
    "test_gemeente",
    "test_notebooks",
)


def _long_rank(unit: str) -> int:
    return XDIST_LONG_FIRST.index(unit) if unit in XDIST_LONG_FIRST else len(XDIST_LONG_FIRST)


def xdist_unit(nodeid: str) -> str:
    """The work unit of a test: its module's name, or the shared group of XDIST_GROUPS."""
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    return XDIST_GROUPS.get(module, module)


if importlib.util.find_spec("xdist") is not None:  # a dev dependency; plain pytest runs without it

    def pytest_xdist_make_scheduler(config: pytest.Config, log):
        """``--dist loadscope`` with the units of :func:`xdist_unit`. (Not ``loadgroup`` with
        ``xdist_group`` marks: pytest 9.2 ignores the node-id suffix that scheduler relies on,
        pytest-xdist issue 1386, and would spread the tests one by one.)"""
        if config.getvalue("dist") != "loadscope":
            return None
        from xdist.scheduler import LoadScopeScheduling

        class ModuleUnits(LoadScopeScheduling):
            ordered = False

            def _split_scope(self, nodeid: str) -> str:
                return xdist_unit(nodeid)

            def _assign_work_unit(self, node) -> None:
                if not self.ordered:  # the longest units first, the rest by test count (xdist's order)
                    self.ordered = True
                    units = sorted(self.workqueue.items(), key=lambda u: _long_rank(u[0]))
                    self.workqueue.clear()
                    self.workqueue.update(units)
                super()._assign_work_unit(node)

        return ModuleUnits(config, log)
