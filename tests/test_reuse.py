"""Reuse between runs (analysis.reuse): a stored result is used only for exactly the same inputs and
code, and gives what a fresh computation gives (charts, the sensitivity draws, resilience figures and
whole resilience outputs after a threshold change)."""

from __future__ import annotations

import contextlib
import dataclasses
import filecmp
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import reuse
from analysis.factsheets import chart_base, charts
from analysis.resilience.analysis import compute
from analysis.resilience.robustness import sensitivity
from tests.test_figures import AREAS, CATALOG, NAMES, _rows
from tests.test_resilience import CFG, planted_world

# --- the key ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Goal:
    id: str
    doelwaarde: float | None


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"code": ["A", "B", None], "x": [1.0, np.nan, 0.0], "n": [1, 2, 3], "ok": [True, False, True]},
        index=[10, 11, 12],
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.assign(x=[1.0, np.nan, -0.0]),  # -0.0 is printed differently: another input
        lambda d: d.assign(x=[1.0, 2.0, 0.0]),  # a missing value filled
        lambda d: d.assign(code=["A", "B", "C"]),
        lambda d: d.assign(n=[1, 2, 4]),
        lambda d: d.assign(n=[1.0, 2.0, 3.0]),  # same numbers, other dtype
        lambda d: d.rename(columns={"ok": "goed"}),
        lambda d: d.set_axis([10, 11, 13]),  # index
        lambda d: d.iloc[[1, 0, 2]],  # row order
    ],
)
def test_every_change_of_a_table_gives_another_key(change):
    assert reuse.digest(_frame()) == reuse.digest(_frame())
    assert reuse.digest(change(_frame())) != reuse.digest(_frame())


def test_mappings_sequences_and_dataclasses_are_keyed_by_every_value():
    base = ({"b": 1, "a": [1, 2]}, _Goal("P1", 2.0), (1, "1"))
    assert reuse.digest(*base) == reuse.digest({"a": [1, 2], "b": 1}, _Goal("P1", 2.0), (1, "1"))
    assert reuse.digest(*base) != reuse.digest({"b": 1, "a": [2, 1]}, _Goal("P1", 2.0), (1, "1"))
    assert reuse.digest(*base) != reuse.digest({"b": 1, "a": [1, 2]}, _Goal("P1", 2.5), (1, "1"))
    assert reuse.digest(*base) != reuse.digest({"b": 1, "a": [1, 2]}, _Goal("P1", 2.0), (1, 1))


def test_the_store_reuses_only_for_the_same_inputs_and_code(tmp_path, monkeypatch):
    store, made = reuse.Store(tmp_path), []

    def make(v):
        made.append(v)
        return {"waarde": v}

    assert store.get_or_make("k", (1, "a"), lambda: make(1)) == {"waarde": 1}
    assert store.get_or_make("k", (1, "a"), lambda: make(2)) == {"waarde": 1}  # stored
    assert made == [1]
    assert store.get_or_make("k", (1, "b"), lambda: make(3)) == {"waarde": 3}  # other input
    assert store.get_or_make("other kind", (1, "a"), lambda: make(4)) == {"waarde": 4}
    monkeypatch.setattr(reuse, "code_version", lambda: "other code")
    assert store.get_or_make("k", (1, "a"), lambda: make(5)) == {"waarde": 5}  # other code
    assert made == [1, 3, 4, 5]
    assert reuse.Store(None).get_or_make("k", (1, "a"), lambda: make(6)) == {"waarde": 6}  # no store


def test_the_code_version_covers_the_package_code(tmp_path, monkeypatch):
    pkg = tmp_path / "analysis"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "charts.py").write_text("A = 1\n")
    (pkg / "cli" / "main.py").write_text("B = 1\n")
    monkeypatch.setattr(reuse, "PACKAGE", pkg)
    reuse.code_version.cache_clear()
    try:
        v0 = reuse.code_version()
        (pkg / "cli" / "main.py").write_text("B = 2\n")  # a command: no part of a result
        reuse.code_version.cache_clear()
        assert reuse.code_version() == v0
        (pkg / "charts.py").write_text("A = 2\n")
        reuse.code_version.cache_clear()
        assert reuse.code_version() != v0
    finally:
        reuse.code_version.cache_clear()


def test_prune_removes_only_entries_not_used_since(tmp_path):
    import os

    store = reuse.Store(tmp_path)
    store.get_or_make("k", (1,), lambda: 1)
    store.get_or_make("k", (2,), lambda: 2)
    old = sorted(tmp_path.rglob("*.pkl"))
    for f in old:
        os.utime(f, (1_000_000, 1_000_000))
    store.get_or_make("k", (1,), lambda: 99)  # read now: kept
    assert store.prune(used_since=2_000_000) == 1
    assert store.get_or_make("k", (1,), lambda: 99) == 1
    assert store.get_or_make("k", (2,), lambda: 22) == 22


# --- charts ------------------------------------------------------------------------------------------


@pytest.fixture
def chart_store(tmp_path):
    chart_base.use_store(tmp_path)
    yield chart_base.chart_store()
    chart_base.use_store(None)


def _series(rows):
    return charts.series_chart(rows, AREAS, NAMES, ["inwoners", "laag_inkomen_pct"], CATALOG)


def test_a_stored_chart_is_the_chart_drawn_afresh_and_changes_with_its_data(chart_store, monkeypatch):
    rows = _rows()
    first = _series(rows)
    again = _series(rows.copy())
    assert (chart_store.misses, chart_store.hits) == (1, 1)
    fresh = charts.draw_series_chart(rows, AREAS, NAMES, ["inwoners", "laag_inkomen_pct"], CATALOG)
    assert again.html == first.html == fresh.html
    pd.testing.assert_frame_equal(again.table, fresh.table)

    changed = rows.copy()
    changed.loc[changed.index[0], "value"] += 1.0
    other = _series(changed)
    assert chart_store.misses == 2 and other.html != first.html
    assert (
        other.html
        == charts.draw_series_chart(changed, AREAS, NAMES, ["inwoners", "laag_inkomen_pct"], CATALOG).html
    )


def test_a_chart_is_redrawn_when_the_y_axis_span_of_indicators_uitleg_changes(chart_store, monkeypatch):
    _series(_rows())
    monkeypatch.setattr(charts, "_min_spans", lambda: {"inwoners": 12345.0})
    _series(_rows())
    assert chart_store.misses == 2


def test_a_chart_is_redrawn_when_matplotlib_settings_change(chart_store):
    import matplotlib

    _series(_rows())
    with matplotlib.rc_context({"font.size": 17}):
        _series(_rows())
    assert chart_store.misses == 2


# --- resilience --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world():
    ind, regions, _ = planted_world()
    return ind, regions, compute(ind, regions, CFG, min_inwoners=100)


def _cfg(level=None, step=None, seed=None, weight=None):
    t = CFG.thresholds.model_copy(
        update={k: v for k, v in (("level", level), ("step", step)) if v is not None}
    )
    cfg = CFG.model_copy(update={"thresholds": t})
    if seed is not None:
        cfg = cfg.model_copy(update={"sensitivity": cfg.sensitivity.model_copy(update={"seed": seed})})
    return cfg


@pytest.mark.parametrize(
    "second", [_cfg(level=0.8), _cfg(step=0.1), _cfg(seed=99)], ids=["level", "step", "seed"]
)
def test_reused_sensitivity_draws_give_the_fresh_result(world, tmp_path, second):
    _, _, res = world
    store = reuse.Store(tmp_path)
    sensitivity(res, CFG, n_sim=40, store=store)
    reused, summary = sensitivity(res, second, n_sim=40, store=store)
    fresh, fresh_summary = sensitivity(res, second, n_sim=40)
    pd.testing.assert_frame_equal(reused, fresh, check_exact=True)
    assert summary == fresh_summary
    # a threshold change reuses the draws; another seed draws again
    assert store.hits == (0 if second.sensitivity.seed != CFG.sensitivity.seed else 1)


def test_sensitivity_draws_are_drawn_again_for_other_weights(world, tmp_path):
    ind, regions, res = world
    store = reuse.Store(tmp_path)
    sensitivity(res, CFG, n_sim=30, store=store)
    axes = CFG.axes.copy()
    a = axes["A"].model_copy(deep=True)
    a.indicators["ses_woa"] = a.indicators["ses_woa"].model_copy(update={"weight": 5.0})
    axes["A"] = a
    heavy = CFG.model_copy(update={"axes": axes})
    res2 = compute(ind, regions, heavy, min_inwoners=100)
    reused, _ = sensitivity(res2, heavy, n_sim=30, store=store)
    assert store.hits == 0
    pd.testing.assert_frame_equal(reused, sensitivity(res2, heavy, n_sim=30)[0], check_exact=True)


def _resilience_run(built_paths, outputs: Path, level: float, monkeypatch):
    from analysis.config import Paths
    from analysis.resilience import run as run_mod

    cfg = _cfg(level=level)
    monkeypatch.setattr(run_mod, "load_config", lambda: cfg)
    p = Paths(
        raw=built_paths.raw, processed=built_paths.processed, outputs=outputs, gemeente=built_paths.gemeente
    )
    run_mod.run(p, n_sim=20)
    return outputs / "resilience"


def _level_with_the_same_classes(scores: pd.DataFrame, level: float) -> float:
    """The middle of the gap around ``level`` between the buurten's level scores: no buurt moves
    across it (only the drawn line moves)."""
    b = scores[scores["level"] == "buurt"]
    v = pd.concat([b["A_niveau_gemeente"], -b["B_niveau_gemeente"]]).dropna()
    above, below = v[v >= level], v[v < level]
    hi = float(above.min()) if len(above) else level + 1.0
    lo = float(below.max()) if len(below) else level - 1.0
    return (lo + hi) / 2


@pytest.fixture(scope="module")
def first_run(built, tmp_path_factory):
    """One resilience run at the shipped level on the shared build (its outputs and its reuse store),
    the starting point of both threshold reruns below; copied before it is changed."""
    paths, _ = built
    base = tmp_path_factory.mktemp("first_run") / "outputs"
    with pytest.MonkeyPatch.context() as mp:
        _resilience_run(paths, base, CFG.thresholds.level, mp)
    return base


@pytest.mark.parametrize("classes", ["changed", "same"])
def test_a_threshold_rerun_with_reuse_writes_what_a_clean_run_writes(
    built, first_run, tmp_path, monkeypatch, classes
):
    paths, _ = built
    inc = tmp_path / "incremental"
    shutil.copytree(first_run, inc)  # the first run's outputs and store (.cache), as a user has them
    level0 = CFG.thresholds.level
    first = {f.name: f.read_bytes() for f in (inc / "resilience").iterdir()}
    level = (
        0.7
        if classes == "changed"
        else _level_with_the_same_classes(pd.read_parquet(inc / "resilience" / "scores.parquet"), level0)
    )
    _resilience_run(paths, inc, level, monkeypatch)  # reuses draws, placements, national figure
    clean = _resilience_run(paths, tmp_path / "clean", level, monkeypatch)
    names = sorted(f.name for f in clean.iterdir())
    assert names == sorted(f.name for f in (inc / "resilience").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(inc / "resilience", clean, names, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(names)
    # the threshold did change what the stage wrote (else this proves nothing)
    assert first["scores.parquet"] != (clean / "scores.parquet").read_bytes()
    assert first["assen_buurten.png"] != (clean / "assen_buurten.png").read_bytes()
    before = pd.read_parquet(io.BytesIO(first["scores.parquet"]))
    after = pd.read_parquet(clean / "scores.parquet")
    same = before["signaal"].fillna("").to_numpy() == after["signaal"].fillna("").to_numpy()
    assert same.all() == (classes == "same")
    shutil.rmtree(tmp_path / "clean")


# --- whole sheets and the store's size ---------------------------------------------------------------


def test_sheets_with_stored_charts_are_the_sheets_drawn_afresh(analysed, tmp_path, monkeypatch):
    from analysis.config import Paths
    from analysis.factsheets import sheet as sheet_mod
    from analysis.factsheets.execution import paths_to_params

    out = tmp_path / "outputs"
    shutil.copytree(analysed.outputs, out, ignore=shutil.ignore_patterns(".cache"))
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=out, gemeente=analysed.gemeente)
    paden = paths_to_params(p)
    codes = ["GM0642", "FG01", "WK064201", "BU06420101"]
    try:
        first = {c: sheet_mod.Sheet.load(c, paden=paden).render_all() for c in codes}  # fills the store
        stored = sorted((out / ".cache" / "grafieken").rglob("*.pkl"))
        assert len(stored) >= 2 * len(codes)  # at least the series chart and the map of each
        seen = []
        real = chart_base.store_at

        @contextlib.contextmanager
        def counting(outputs):
            with real(outputs):
                yield
                seen.append((chart_base.chart_store().hits, chart_base.chart_store().misses))

        monkeypatch.setattr(sheet_mod, "store_at", counting)
        again = {c: sheet_mod.Sheet.load(c, paden=paden).render_all() for c in codes}
        assert sum(h for h, _ in seen) >= 2 * len(codes) and sum(m for _, m in seen) == 0
        assert chart_base.chart_store().root is None  # the store is the sheet's only while it draws
        fresh = {c: sheet_mod.Sheet(sheet_mod.load_context(p), c).render_all() for c in codes}  # no store
    finally:
        chart_base.use_store(None)
    assert again == first == fresh


def test_a_full_batch_prunes_the_charts_it_did_not_use_a_partial_one_keeps_them(tmp_path):
    import os
    from types import SimpleNamespace

    from analysis.factsheets.manifest import prune_charts

    store = reuse.Store(reuse.cache_root(tmp_path) / "grafieken")
    for i in range(3):
        store.get_or_make("k", (i,), lambda: "grafiek")
    for f in (reuse.cache_root(tmp_path) / "grafieken").rglob("*.pkl"):
        os.utime(f, (1_000_000, 1_000_000))  # from an earlier batch
    store.get_or_make("k", (0,), lambda: "x")  # used by this batch
    areas = pd.DataFrame({"sheet": [True, True, False]})
    plan = SimpleNamespace(paths=SimpleNamespace(outputs=tmp_path), areas=areas, started=2_000_000.0)
    assert prune_charts(SimpleNamespace(**vars(plan), todo=[1])) == 0  # one of two sheets: keep all
    assert prune_charts(SimpleNamespace(**vars(plan), todo=[1, 2])) == 2
    assert len(list((reuse.cache_root(tmp_path) / "grafieken").rglob("*.pkl"))) == 1
