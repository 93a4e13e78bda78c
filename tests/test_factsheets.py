"""Fact sheets end to end: template via papermill, HTML checks, failures, isolation, Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis import cli
from analysis.config import Paths
from analysis.factsheets.fmt import fmt_value, nl_number
from analysis.factsheets.runner import run_batch
from analysis.figures import SYNTHETIC_STAMP
from tests.conftest import TWO_SHEETS, descendants, use_paths
from tests.sheet_fixtures import FAILING

A, B = TWO_SHEETS  # Planetenbuurt and focus area Dichtersbuurt midden; conftest.two_sheets renders them


def test_two_areas_render_with_computed_numbers(analysed, two_sheets):
    res, manifest, files = two_sheets
    assert res["ok"] == 2 and res["failed"] == 0
    html = files[A].read_text()
    ind = pd.read_parquet(analysed.indicators)
    inw = ind.query("region_code == @A and indicator == 'inwoners' and year == 2023")["value"].iloc[0]
    assert f"woonden in 2023 {nl_number(inw)} mensen" in html
    scores = pd.read_parquet(analysed.outputs / "resilience" / "scores.parquet").set_index("region_code")
    assert f"ten opzichte van de gemeente Zwijndrecht: <strong>{scores.loc[A, 'signaal']}</strong>" in html
    assert (
        f"{nl_number(scores.loc[A, 'A_niveau_gemeente'], 2)} ({scores.loc[A, 'A_niveauklasse_gemeente']})"
        in html
    )
    fg = files[B].read_text()
    from analysis.factsheets.fmt import samenstelling_nl

    assert "Dichtersbuurt midden" in fg and samenstelling_nl(str(scores.loc[B, "samenstelling"])) in fg


def test_html_is_self_contained_accessible_and_has_no_code(two_sheets):
    _, _, files = two_sheets
    for path in files.values():
        html = path.read_text()
        assert html.startswith("<!DOCTYPE html>") and '<html lang="nl">' in html
        assert not re.search(r"<script[^>]+src=", html)
        assert not re.search(r'<link[^>]+href=["\']https?:', html)
        assert not re.search(r"(require\.js|mathjax|cdn\.jsdelivr|cdnjs|unpkg)", html, re.I)
        assert "Sheet.load" not in html and "sheet.display" not in html and "forceer_fout" not in html
        imgs = re.findall(r"<img[^>]*>", html)
        assert len(imgs) >= 3
        for img in imgs:
            alt = re.search(r'alt="([^"]*)"', img)
            assert alt and len(alt.group(1)) > 30 and "No description" not in alt.group(1)
        assert "@media print" in html and "size: A4" in html and "width=device-width" in html
        # synthetic values on the page: the banner a reader sees (not the stylesheet's class names)
        text = visible_text(html)
        assert f"{SYNTHETIC_STAMP}. Deze pagina bevat synthetische waarden" in text
        assert "Gebruik ze niet voor beleid" in text
        assert re.search(r'<div class="banner-synthetic" role="alert">', html)
        assert text.count("synthetisch") >= 3  # the badges next to synthetic figures
        assert "Bronnen en methode" in html and "85618NED" in html


def visible_text(html: str) -> str:
    """What a reader sees: no <style>/<script>, no tags, entities decoded, whitespace collapsed."""
    import html as html_lib

    body = re.sub(r"<(style|script)\b.*?</\1>", " ", html, flags=re.S | re.I)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html_lib.unescape(body).split()).replace(" .", ".")


def test_reference_year_and_goal_count_on_the_sheet_follow_the_data(analysed, two_sheets):
    """The peiljaar is the latest year of the area's time series; 'op koers' counts status.parquet."""
    _, _, files = two_sheets
    ind = pd.read_parquet(analysed.indicators)
    status = pd.read_parquet(analysed.outputs / "goals" / "status.parquet")
    series = ["ses_woa", "laag_inkomen_pct", "bijstand_per_1000", "lbm_score"]
    for code, goal_region in ((A, "FG09"), (B, B)):  # A (Planetenbuurt) is the focus area FG09
        text = visible_text(files[code].read_text())
        year = int(ind[(ind.region_code == code) & ind.indicator.isin(series)]["year"].max())
        assert f"peiljaar {year}" in text
        g = status[status.region_code == goal_region]
        g = g[~g.status.isin(["niet meetbaar", "onvoldoende data"])]
        synth = g.synthetic.fillna(False).astype(bool)
        assert synth.any()
        for label, part in (("echte", g[~synth]), ("synthetische", g[synth])):  # counted apart
            on = int((part.status == "op koers").sum())
            assert (f"{len(part)} op {label} reeksen, waarvan {on} op koers" in text) == (len(part) > 0)


def test_goals_on_course_count_is_not_zero_where_goals_are_on_course(analysed, ctx):
    """In-process (no kernel): areas with goals on course say so on the sheet."""
    from analysis.factsheets.sheet import Sheet

    status = pd.read_parquet(analysed.outputs / "goals" / "status.parquet")
    synth = status.synthetic.fillna(False).astype(bool)
    on = status[(status.status == "op koers") & synth].groupby("region_code").size()
    fgs = [c for c in on.index if c.startswith("FG") and c != "FG00"]
    assert fgs, "the bundled data has focus areas with goals on course"
    for code in fgs[:3]:
        assert f"op synthetische reeksen, waarvan {on[code]} op koers" in Sheet(ctx, code).samenvatting()


def test_overview_lists_sheets_and_areas_without_sheet(analysed, two_sheets):
    index = (analysed.outputs / "factsheets" / "index.html").read_text()
    _, manifest, files = two_sheets
    # one population figure: the overview shows what the sheet's front page says
    from analysis.factsheets.cijfers import bevolking

    pop = bevolking(pd.read_parquet(analysed.indicators), A)
    sheet_text = visible_text(files[A].read_text())
    assert f"woonden in {pop.jaar} {nl_number(pop.inwoners)} mensen" in sheet_text
    row = re.search(rf'<tr data-niveau=\'buurt\'><td><a href="{files[A].name}">.*?</tr>', index)
    assert row and f"<td data-v='{pop.inwoners:.0f}'>{nl_number(pop.inwoners)}" in row.group(0)
    assert f"Inwoners ({pop.jaar})" in index
    assert f'href="{files[A].name}"' in index and "<svg" in index
    assert "Gebieden zonder factsheet" in index and "minder dan 200 inwoners" in index
    assert "Drinkwaterbedrijf" in index  # 0 inhabitants: listed, no sheet
    assert manifest["no_sheet"] and all(e["reden"] for e in manifest["no_sheet"])


def test_unchanged_areas_are_skipped_unless_forced(analysed, two_sheets):
    res = run_batch(analysed, only=[A, B], workers=1, progress=False)
    assert res["skipped"] == 2 and res["ok"] == 0


def test_unknown_area_code_is_a_clear_error(analysed, monkeypatch, capsys):
    use_paths(monkeypatch, analysed)
    assert cli.main(["factsheets", "--only", "BU06429999"]) == 2
    assert "--only BU06429999: onbekende gebiedscode" in capsys.readouterr().err
    assert cli.main(["factsheets", "--only", "BU06420103"]) == 2  # 0 inhabitants
    assert "--only BU06420103: geen factsheet" in capsys.readouterr().err


def test_sheet_does_not_depend_on_the_sheet_before_it_in_the_same_kernel(two_sheets, reversed_sheets):
    """One worker = one kernel: two_sheets ran A then B; sheet_fixtures.reversed_sheets ran B then A
    (after a sheet that failed at its start). Byte for byte equal (breakage caught: state a sheet
    leaves in the kernel, e.g. the template's reset cell or Sheet.load's reset_plotting removed)."""
    _, _, files = two_sheets
    res, manifest, again, _ = reversed_sheets
    assert res["ok"] == 2
    assert [e["area"] for e in manifest["areas"]] == [B, FAILING, A]  # the overview's order
    assert again[B] == files[B].read_bytes()
    assert again[A] == files[A].read_bytes()


def test_a_sheet_failing_in_its_kernel_does_not_stop_the_batch(two_sheets, reversed_sheets):
    """The real template in a real kernel: FG05 fails at its first cell (Sheet.load's test hook), the
    two sheets after it in the same kernel are made, byte for byte as in a batch without a failure
    (breakage caught: a cell error that breaks the worker or leaves the kernel unusable)."""
    _, _, files = two_sheets
    res, manifest, again, _ = reversed_sheets
    assert res["failed"] == 1 and res["ok"] == 2
    e = {x["area"]: x for x in manifest["areas"]}
    assert e[FAILING]["status"] == "failed" and f"geforceerde fout voor {FAILING}" in e[FAILING]["error"]
    assert e[FAILING]["file"] is None
    assert e[B]["status"] == e[A]["status"] == "ok"
    assert again[A] == files[A].read_bytes()


def test_sheet_renders_in_headless_chromium(two_sheets, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is required (.ci/run installs it with apt)"
    _, _, files = two_sheets
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    url = files[A].resolve().as_uri()
    shot = tmp_path / "sheet.png"
    # one browser run: the screenshot of the rendered page and its DOM (on stdout)
    dom = subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,1600", "--dump-dom", url],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert "<h1>Planetenbuurt</h1>" in dom


# --- reliability: dead kernels, timeouts, orphans, Ctrl-C, workers, stale sheets -------------------

# Tests of the runner itself (dead kernel, timeout, kill -9, Ctrl-C, a failing sheet via the CLI) run
# a stand-in template (``_runner_template``: parameters, an optional fault, one output cell) in
# kernels whose warm-up only logs their process id (``_cheap_warm_up``): a real sheet adds nothing to
# these properties and its kernel warm-up costs ~3 CPU-s per (re)start. Real sheets in a real kernel
# after a failing one: test_a_sheet_failing_in_its_kernel_does_not_stop_the_batch.


FORCED_FAILURE = 'if forceer_fout:\n    raise RuntimeError(f"geforceerde fout voor {gebied} (test)")'


def _runner_template(tmp_path, faults: dict[str, str] | None = None) -> Path:
    """A stand-in for the sheet template: the parameters cell of the real one, per area code some
    Python (``"*"``: every area), then one cell showing the area and the kernel's process id. A
    forced failure (``--fail-area``) raises as Sheet.load does."""
    import nbformat
    from nbformat.v4 import new_code_cell

    from analysis.factsheets.planning import TEMPLATE

    real = nbformat.read(TEMPLATE, as_version=4)
    params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
    fault = "\n".join(
        f"if {'True' if area == '*' else f'gebied == {area!r}'}:\n    {code}"
        for area, code in (faults or {}).items()
    )
    nb = nbformat.v4.new_notebook(
        metadata=real.metadata,
        cells=[
            new_code_cell(params.source, metadata={"tags": ["parameters"]}),
            new_code_cell(FORCED_FAILURE),
            new_code_cell(fault or "pass"),
            new_code_cell(
                "import os\nfrom IPython.display import HTML, display\n"
                "display(HTML(f'<p class=\"kernel\">{gebied} {os.getpid()}</p>'))"
            ),
        ],
    )
    path = tmp_path / "runner_template.ipynb"
    nbformat.write(nb, path)
    return path


def _cheap_warm_up(monkeypatch, log: Path) -> None:
    """Every kernel a worker (re)starts runs this warm-up instead of the sheet's: it appends the
    kernel's process id to ``log`` (forked workers inherit the patch)."""
    from analysis.factsheets import execution

    code = f"import os\nwith open({str(log)!r}, 'a') as f: f.write(f'{{os.getpid()}}\\n')"
    monkeypatch.setattr(execution, "_warm_code", lambda paden: code)


def _scratch(analysed, tmp_path) -> Paths:
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "outputs")
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    return p


class _Batch:
    """A batch process: a forked child of this test process in a session of its own (as a command
    started from a terminal), running ``fn(*args)`` and exiting with its return value. It inherits
    this process's imports and monkeypatches (no interpreter start, no import of pandas/papermill:
    ~3 CPU-s per batch); its stdout/stderr (and its workers' and kernels') go to files."""

    def __init__(self, tmp_path: Path, fn, *args):
        from multiprocessing import get_context

        self.out, self.err = tmp_path / "batch.out", tmp_path / "batch.err"
        args = (str(self.out), str(self.err), fn, args)
        self.proc = get_context("fork").Process(target=_batch_main, args=args)
        self.proc.start()
        self.pid = self.proc.pid

    def poll(self) -> int | None:
        return self.proc.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if it still runs after ``timeout`` seconds."""
        self.proc.join(timeout)
        return self.proc.exitcode

    def kill_all(self) -> None:
        """SIGKILL to the batch, its process group and every descendant (a hang guard's cleanup)."""
        import signal

        kids = descendants(self.pid)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _gone_or_kill(kids, 0)
        self.proc.join(5)


@pytest.fixture
def start_batch(tmp_path):
    """``start_batch(fn, *args)``: a :class:`_Batch`. One still running when the test ends (a failed
    test) is killed with its workers and kernels: a forked child is joined when pytest exits."""
    made: list[_Batch] = []

    def start(fn, *args) -> _Batch:
        made.append(_Batch(tmp_path, fn, *args))
        return made[-1]

    yield start
    for batch in made:
        if batch.proc.is_alive():
            batch.kill_all()


def _batch_main(out: str, err: str, fn, args) -> None:
    import signal
    import sys

    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a fresh interpreter's Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for fd, name in ((1, out), (2, err)):
        os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.exit(fn(*args))


def _run_batch_ok(p: Paths, only, template: Path, timeout: float) -> int:
    run_batch(p, only=only, force=True, workers=1, progress=False, template=template, timeout=timeout)
    return 0


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kernels(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"ipykernel" in cmd:
            out.append(pid)
    return out


def _wait_for_kernels(batch: _Batch, n: int, limit: float = 180) -> set[int]:
    """Descendants of ``batch`` once ``n`` kernels run under it (bounded wait, not a speed check)."""
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        kids = descendants(batch.pid)
        if len(_kernels(kids)) >= n:
            return kids
        if batch.poll() is not None:
            pytest.fail(f"batch ended early: {batch.err.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"no {n} kernels started within {limit} s")


def _gone_or_kill(pids, limit: float = 30) -> list[int]:
    """Wait (bounded) for ``pids`` to end; kill and return the ones that did not."""
    import signal
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end and any(_alive(p) for p in pids):
        time.sleep(0.1)
    alive = [p for p in pids if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    return alive


def test_dead_kernel_and_cell_timeout_fail_that_sheet_and_the_batch_goes_on(
    analysed, tmp_path, monkeypatch, start_batch
):
    """A kernel killed mid-sheet and a cell sleeping past the timeout: both sheets fail with the
    reason, the worker's kernel is restarted and warmed again, the next sheet is made in it. A hang
    fails the test."""
    codes = ["FG03", "FG05", A]  # one worker: run in this order
    tpl = _runner_template(
        tmp_path,
        {
            "FG03": "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
            "FG05": "import time; time.sleep(600)",
        },
    )
    log = tmp_path / "warm.log"
    _cheap_warm_up(monkeypatch, log)
    p = _scratch(analysed, tmp_path)
    # per cell: the stand-in template's cells are trivial; short because FG05 waits it out
    batch = start_batch(_run_batch_ok, p, codes, tpl, 2)
    if batch.wait(300) is None:  # hang guard: without the fix this never returns
        batch.kill_all()
        pytest.fail("batch hung on a dead kernel or an endless cell")
    assert batch.poll() == 0, batch.err.read_text()
    manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
    e = {x["area"]: x for x in manifest["areas"]}
    assert e["FG03"]["status"] == "failed" and "died" in e["FG03"]["error"].lower()
    assert e["FG05"]["status"] == "failed" and "timed out" in e["FG05"]["error"]
    assert e[A]["status"] == "ok"  # A ran after both failures, in a restarted kernel
    page = (p.outputs / "factsheets" / e[A]["file"]).read_text()
    # three kernels, each warmed at its start (the first; after the death; after the timeout)
    warmed = log.read_text().split()
    assert len(warmed) == 3 and len(set(warmed)) == 3, warmed
    assert f'<p class="kernel">{A} {warmed[-1]}</p>' in page  # A: in the third, warmed kernel


def test_kill_9_of_the_batch_takes_workers_and_kernels_with_it(analysed, tmp_path, monkeypatch, start_batch):
    import signal

    tpl = _runner_template(tmp_path, {"*": "import time; time.sleep(600)"})
    _cheap_warm_up(monkeypatch, tmp_path / "warm.log")
    p = _scratch(analysed, tmp_path)
    batch = start_batch(_run_batch_ok, p, ["GM0642", "FG03"], tpl, 900)
    kids = _wait_for_kernels(batch, 1)
    assert len(kids) >= 2  # the worker and its kernel
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait()
    assert _gone_or_kill(kids) == []  # bounded wait; survivors are killed and fail the test


def test_ctrl_c_stops_workers_and_kernels_and_writes_the_manifest(
    analysed, tmp_path, monkeypatch, start_batch
):
    import functools
    import signal

    from analysis.factsheets import runner

    # every sheet sleeps an hour: a batch that ignores Ctrl-C cannot end within the guard below, one
    # that stops ends long before it at any load (the guard is not a speed requirement)
    tpl = _runner_template(tmp_path, {"*": "import time; time.sleep(3600)"})
    _cheap_warm_up(monkeypatch, tmp_path / "warm.log")
    monkeypatch.setattr(runner, "run_batch", functools.partial(runner.run_batch, template=tpl))
    p = _scratch(analysed, tmp_path)
    use_paths(monkeypatch, p)  # the CLI's folders (the batch inherits the environment)
    args = ["factsheets", "--only", "GM0642", "FG03", "--workers", "1", "--force"]
    batch = start_batch(cli.main, args)
    kids = _wait_for_kernels(batch, 1)
    os.killpg(batch.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole process group
    if batch.wait(1800) is None:  # hang guard: half the sheets' sleep
        batch.kill_all()
        pytest.fail("Ctrl-C did not stop the batch")
    err = batch.err.read_text()
    assert batch.poll() == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("afgebroken"), err
    manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
    assert manifest["interrupted"] is True
    assert (p.outputs / "factsheets" / "index.html").exists()
    assert _gone_or_kill(kids) == []


def test_workers_default_and_cap_at_the_core_count(capsys):
    from analysis.errors import InputError
    from analysis.factsheets.runner import resolve_workers

    cores = os.cpu_count() or 1
    assert resolve_workers(None) == cores
    assert resolve_workers(cores + 4) == cores
    assert "begrensd tot" in capsys.readouterr().err
    assert resolve_workers(cores + 4, force_workers=True) == cores + 4
    assert resolve_workers(cores + 4, force_workers=True, todo=2) == 2
    for bad in (0, -3):
        with pytest.raises(InputError, match="moet 1 of meer zijn"):
            resolve_workers(bad)


def test_sheets_of_areas_that_no_longer_qualify_are_removed(analysed, two_sheets, tmp_path, monkeypatch):
    from analysis import config
    from analysis.processed.build import load_regions

    _, manifest, files = two_sheets
    p = _scratch(analysed, tmp_path)
    shutil.copytree(analysed.outputs / "factsheets", p.outputs / "factsheets")
    inw = load_regions(p).set_index("region_code")["inwoners"]
    small, big = sorted([A, B], key=lambda c: inw[c])
    assert inw[small] < inw[big]
    cfg = {**config.settings(), "min_inwoners": int(inw[small]) + 1}  # the smaller one drops out
    monkeypatch.setattr("analysis.factsheets.planning.settings", lambda: cfg)
    res = run_batch(p, only=[big], progress=False)
    assert res["skipped"] == 1 and res["ok"] == 0  # unchanged: no kernel needed
    out = p.outputs / "factsheets"
    assert not (out / files[small].name).exists() and (out / files[big].name).exists()
    assert files[small].name in res["pruned"]
    new = json.loads((out / "manifest.json").read_text())
    assert small not in {e["area"] for e in new["areas"]}
    assert f'href="{files[small].name}"' not in (out / "index.html").read_text()


def test_failing_sheet_does_not_stop_batch_and_corrupt_manifest_keeps_the_overview(
    analysed, two_sheets, tmp_path, monkeypatch, capsys
):
    """Through the CLI: B fails (--fail-area), A (after it, same kernel) is made, exit code 1 and the
    failure printed; an unreadable manifest plus --only does not drop the untouched sheet (FG05) from
    the overview. (The stand-in template: real sheets after a failing one are
    test_a_sheet_failing_in_its_kernel_does_not_stop_the_batch.)"""
    import functools

    from analysis.factsheets import runner
    from analysis.factsheets.planning import list_areas
    from analysis.processed.build import load_regions

    _, _, files = two_sheets
    tpl = _runner_template(tmp_path)
    _cheap_warm_up(monkeypatch, tmp_path / "warm.log")
    monkeypatch.setattr(runner, "run_batch", functools.partial(runner.run_batch, template=tpl))
    p = _scratch(analysed, tmp_path)
    out = p.outputs / "factsheets"
    shutil.copytree(analysed.outputs / "factsheets", out)
    other = list_areas(load_regions(p), 200).set_index("region_code").loc["FG05", "slug"]
    (out / f"{other}.html").write_bytes(files[B].read_bytes())  # a sheet of an earlier run
    (out / "manifest.json").write_bytes(b'{"areas": [{"area": "BU06')
    use_paths(monkeypatch, p)
    rc = cli.main(["factsheets", "--only", B, A, "--force", "--workers", "1", "--fail-area", B])
    assert rc == 1
    assert "FG03 mislukt" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    entries = {e["area"]: e for e in manifest["areas"]}
    assert entries[B]["status"] == "failed" and "geforceerde fout" in entries[B]["error"]
    assert entries[A]["status"] == "ok" and not entries[A]["skipped"]
    assert f'<p class="kernel">{A} ' in (out / files[A].name).read_text()  # made in this run
    assert set(entries) == {A, B, "FG05"} and entries["FG05"]["skipped"]
    index = (out / "index.html").read_text()
    assert f'href="{other}.html"' in index and f'href="{files[A].name}"' in index


# --- content and templating, in process (no kernel) ----------------------------------------------


@pytest.fixture(scope="module")
def ctx(analysed):
    from analysis.factsheets.sheet import load_context

    return load_context(analysed)


def _with(ctx, **changes):
    import dataclasses

    return dataclasses.replace(ctx, **changes)


def test_templates_autoescape_data_and_pass_only_our_own_fragments_as_markup(ctx):
    """An area name with markup comes out escaped in every section; figures stay real HTML."""
    from analysis.factsheets.render import environment
    from analysis.factsheets.sheet import Sheet

    evil = '<script>alert("x")</script> & <b>Co</b>'
    reg = ctx.regions.copy()
    reg.loc[reg.region_code == A, "name"] = evil
    html = Sheet(_with(ctx, regions=reg), A).render_all()
    assert "<script>" not in html and "<b>Co</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in html
    assert html.count("<figure") >= 3 and 'src="data:image/' in html  # Markup on purpose
    env = environment()
    assert env is environment()  # one Environment per process
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError, match="niet_bestaand"):
        env.from_string("{{ d.niet_bestaand }}").render(d={})  # StrictUndefined


def test_templates_ship_with_the_package():
    import tomllib
    from importlib.resources import files

    from analysis.factsheets.sheet import Sheet

    folder = files("analysis.factsheets") / "templates"
    for section in Sheet.SECTIONS:
        assert (folder / f"{section}.html.j2").is_file()
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "templates/*.j2" in pyproject["tool"]["setuptools"]["package-data"]["analysis.factsheets"]


def test_each_key_figure_row_compares_one_year_and_real_figures_win(ctx):
    from analysis.factsheets.sheet import Sheet

    ind = ctx.indicators
    for code in (A, "WK064203", "GM0642", B):
        sheet = Sheet(ctx, code)
        data = sheet.data_kerncijfers()
        for row in (*data.echt, *data.derden, *data.synthetisch):
            year, cells = sheet.key[row.indicator]
            assert row.jaar == year
            for (c, r), cel in zip(cells.items(), row.cellen, strict=True):
                if r is not None and int(r["year"]) != year:
                    # another vintage only as the nearest REAL figure, when that year has no real one,
                    # and shown with its own year
                    assert r["origin"] != "synthetic", (code, row.indicator, c)
                    same = ind[(ind.region_code == c) & (ind.indicator == row.indicator) & (ind.year == year)]
                    assert (same.origin == "synthetic").all(), (code, row.indicator, c)
                    assert cel.jaar == int(r["year"]), (code, row.indicator, c)
        # a comparator without a real figure in that year shows its nearest real figure with its year
    sheet = Sheet(ctx, A)
    year, cells = sheet.key["pct_65_plus"]
    gm = ind[(ind.region_code == "GM0642") & (ind.indicator == "pct_65_plus")]
    assert year == 2023 and cells[A] is not None
    assert (cells["GM0642"] is None) == gm.empty
    row = next(r for r in sheet.data_kerncijfers().echt if r.indicator == "pct_65_plus")
    cel = row.cellen[sheet.compare.index("GM0642")]
    if cells["GM0642"] is None:
        assert cel.waarde == "n.b."
    else:
        assert cel.waarde == fmt_value(cells["GM0642"]["value"], "%")
        assert cel.jaar == (None if int(cells["GM0642"]["year"]) == 2023 else int(cells["GM0642"]["year"]))
    # Nederland's population: the real 2024 figure with its year, not n.b. (the row compares 2023)
    nl = Sheet(ctx, "GM0642")
    year, cells = nl.key["inwoners"]
    real_nl = ind[(ind.region_code == "NL00") & (ind.indicator == "inwoners") & (ind.origin != "synthetic")]
    if len(real_nl) and year not in set(real_nl.year):
        row = next(r for r in nl.data_kerncijfers().echt if r.indicator == "inwoners")
        cel = row.cellen[nl.compare.index("NL00")]
        assert cel.waarde != "n.b." and cel.jaar is not None and f"({cel.jaar})" in nl.kerncijfers()
    # real first: the municipality's real WOZ / social-housing figure (another year) beats the synthetic one
    gm_sheet = Sheet(ctx, "GM0642")
    for i in ("woz", "corporatie_pct"):
        real = ind[(ind.region_code == "GM0642") & (ind.indicator == i) & (ind.origin != "synthetic")]
        assert len(real), i
        year, cells = gm_sheet.key[i]
        assert year == int(real.year.max()) and cells["GM0642"]["origin"] != "synthetic"
        assert float(cells["GM0642"]["value"]) == float(real.sort_values("year").value.iloc[-1])
    html = gm_sheet.kerncijfers()
    assert html.count("badge-synthetic") == 1  # one label for the synthetic rows, not one per cell


def test_comparison_columns_and_coverage_are_shown_when_the_data_have_them(ctx):
    from analysis.factsheets.sheet import Sheet

    ind = ctx.indicators.copy()
    base = ind[(ind.region_code == "GM0642") & (ind.indicator == "inwoners") & (ind.year == 2023)]
    ds = base.assign(region_code="DS00", level="regio", value=290_000.0)
    ind = pd.concat([ind, ds], ignore_index=True)
    without = Sheet(_with(ctx, indicators=ind.drop(columns="coverage", errors="ignore")), "WK064203")
    assert "Drechtsteden" in without.data_kerncijfers().gebieden  # no `coverage` column: fine
    assert "(dekking" not in without.kerncijfers()
    ind["coverage"] = float("nan")
    inw = (ind.region_code == "WK064203") & (ind.indicator == "inwoners") & (ind.origin != "synthetic")
    newest = ind.loc[inw, "year"].max()  # the front page's inhabitants year (the newest real one)
    ind.loc[inw & (ind.year == newest), "coverage"] = 0.97
    sheet = Sheet(_with(ctx, indicators=ind), "WK064203")
    html = sheet.kerncijfers()
    assert "(dekking 97%)" in html and "Dekking: een cijfer opgeteld uit buurten" in html
    text = visible_text(sheet.samenvatting())
    assert "Opgeteld uit buurten met samen 97% van de inwoners" in text
    # the built data's own coverage: every aggregate under 100% on the page says so, in its own cell
    from analysis.factsheets.render import _dekking

    real = Sheet(ctx, "WK064203")
    html = real.kerncijfers()
    covs = [
        float(r["coverage"])
        for _year, cells in real.key.values()
        for r in cells.values()
        if r is not None and pd.notna(r.get("coverage")) and r["coverage"] < 1
    ]
    assert covs  # e.g. the wijk's 2023 age profile, summed from buurten with a figure
    for c in covs:
        assert f"(dekking {_dekking(c)})" in html


def test_front_page_has_population_signal_thresholds_robustness_and_what_it_rests_on(ctx, monkeypatch):
    from analysis.factsheets import gebied as sheet_mod
    from analysis.factsheets.cijfers import bevolking
    from analysis.factsheets.sheet import Sheet

    buurt = "BU06420101"  # a buurt with a signal
    s = Sheet(ctx, buurt)
    kop = s.data_kop()
    score = ctx.scores.set_index("region_code").loc[buurt]
    sens = ctx.sensitivity.set_index("region_code").loc[buurt]
    assert kop.signaal.woord == score.signaal == "signaal" and kop.signaal.kleur == "rood"
    html = s.kop()
    text = visible_text(html)
    assert '<span class="badge badge-rood">signaal</span>' in html  # word and colour
    assert f"In {nl_number(100 * sens.p_signaal, 0)}% van de doorrekeningen" in text
    assert str(sens.robuustheid) in text
    pop = bevolking(ctx.indicators, buurt)
    assert f"woonden in {pop.jaar} {nl_number(pop.inwoners)} mensen in {nl_number(pop.huishoudens)}" in text
    contrib = ctx.contributions[ctx.contributions.region_code == buurt]
    labels = [b.label for b in kop.bijdragen]
    assert len(labels) == 3 and all(b.richting == "ongunstig" for b in kop.bijdragen)
    adverse = contrib.bijdrage.where(contrib["as"] == "A", -contrib.bijdrage)
    top = contrib.assign(adv=adverse).sort_values("adv", ascending=False).indicator.head(3)
    assert labels == [s.catalog[i]["label"] for i in top]
    assert "Waar het op rust" in text and labels[0] in text
    # thresholds come from config/resilience.yaml
    cfg = sheet_mod._resilience_config()
    changed = cfg.with_thresholds(level=1.3, change=0.7)
    monkeypatch.setattr(sheet_mod, "_resilience_config", lambda: changed)
    text = visible_text(Sheet(ctx, buurt).kop())
    assert "minstens 1,3 standaarddeviatie" in text and "jaar minstens 0,7;" in text


def test_approximate_focus_area_mappings_are_stated_on_their_sheets(ctx):
    from analysis.factsheets.sheet import Sheet

    reg = ctx.regions
    approx = reg[(reg.level == "focusgebied") & (reg.mapping == "approximate") & (reg.region_code != "FG00")]
    assert len(approx) == 4
    for fg in approx.region_code:
        assert "koppeling benaderd" in visible_text(Sheet(ctx, fg).kop())
        for bu in reg[(reg.level == "buurt") & (reg.focusgebied == fg)].region_code:
            assert "koppeling benaderd" in visible_text(Sheet(ctx, bu).kop())
    exact = reg[(reg.level == "focusgebied") & (reg.mapping == "exact")].region_code.iloc[0]
    assert "koppeling exact" in visible_text(Sheet(ctx, exact).kop())


def test_goals_only_where_they_apply_and_forecasts_carry_units(ctx):
    from analysis.factsheets.sheet import Sheet

    reg = ctx.regions
    plain_buurt = reg[
        (reg.level == "buurt") & reg.focusgebied.isna() & (reg.inwoners >= 200)
    ].region_code.iloc[0]
    for code in (plain_buurt, "WK064203"):
        s = Sheet(ctx, code)
        text = visible_text(s.samenvatting() + s.doelen())
        assert "geen eigen programmadoelen" in text
        assert "op koers" not in text and "reeksen, waarvan" not in text
        assert '<table class="doelen">' not in s.doelen()
    wijk = visible_text(Sheet(ctx, "WK064203").doelen())
    assert "Planetenbuurt" in wijk  # the wijk's focus areas, with their own goals
    # the municipality: its own goals, and the programme goals under their own clearly marked heading
    gm = Sheet(ctx, "GM0642").data_doelen()
    assert [(g.kop, g.samen) for g in gm.groepen][1] == ("Programmadoel voor alle focusbuurten samen", True)
    assert {r.gebied for r in gm.groepen[1].rijen} == {"Alle focusbuurten samen"}
    assert {r.gebied for r in gm.groepen[0].rijen} == {"Zwijndrecht"}
    # a focus buurt: the goals of its own focus area only
    fb = Sheet(ctx, A).data_doelen()
    assert len(fb.groepen) == 1 and {r.gebied for r in fb.groepen[0].rijen} == {"Planetenbuurt"}
    # units on every forecast number: "649 huishoudens (80%-interval 440 tot 858)"
    units = re.compile(r"(huishoudens|per 1\.000 inwoners|punten|procentpunt|%|€)")
    n = 0
    for d in (gm, fb, Sheet(ctx, "FG00").data_doelen()):
        for g in d.groepen:
            for r in g.rijen:
                if r.prognose != "n.b.":
                    n += 1
                    point = r.prognose.split(" (80%-interval")[0]
                    assert units.search(point), r.prognose
                    assert "80%-interval" in r.prognose
    assert n >= 10
    headline = next(r for r in gm.groepen[0].rijen if r.doel_id == "P2-03-GEM")
    assert re.match(r"^[\d.]+ huishoudens \(80%-interval [\d.]+ tot [\d.]+\)$", headline.prognose)


def test_wijk_sheet_lists_its_buurten_with_signal_and_link(ctx):
    from analysis.factsheets.sheet import Sheet

    s = Sheet(ctx, "WK064203")
    reg = ctx.regions
    buurten = reg[(reg.level == "buurt") & (reg.wijk_code == "WK064203")]
    data = s.data_veerkracht().buurten
    assert {b.code for b in data} == set(buurten.region_code)
    scores = ctx.scores.set_index("region_code")["signaal"]
    html = s.veerkracht()
    for b in data:
        expected = scores.get(b.code) if isinstance(scores.get(b.code), str) else "niet gescoord"
        assert b.woord == expected
        name = reg.set_index("region_code").loc[b.code, "name"]
        if reg.set_index("region_code").loc[b.code, "inwoners"] >= 200:
            assert b.link and b.link.startswith(b.code.lower() + "-") and f'href="{b.link}"' in html
        else:
            assert b.link is None
        assert f'<span class="badge badge-{b.kleur}">{b.woord}</span>' in html and name in visible_text(html)
    assert {b.woord for b in data} >= {"signaal", "geen signaal"}


def test_colophon_contact_comes_from_the_settings(ctx, monkeypatch):
    from analysis import config
    from analysis.factsheets.sheet import Sheet, package_version

    text = visible_text(Sheet(ctx, A).bronnen())
    assert "nog in te vullen door de gemeente" in text and "@" not in text  # a placeholder, no fake person
    assert f"versie {package_version()}" in text and package_version() != "onbekend"
    assert re.search(r"Gepubliceerd \d{1,2} [a-z]+ \d{4}", text)
    cfg = {
        **config.settings(),
        "colofon": {
            "organisatie": "Gemeente Testdorp",
            "afdeling": "Onderzoek",
            "email": "onderzoek@testdorp.nl",
            "telefoon": None,
            "url": None,
            "ingevuld": True,
        },
    }
    monkeypatch.setattr(config, "settings", lambda: cfg)
    html = Sheet(ctx, A).bronnen()
    assert 'href="mailto:onderzoek@testdorp.nl"' in html and "Gemeente Testdorp, Onderzoek" in html
    assert "nog in te vullen" not in html


def test_colophon_settings_are_validated():
    from analysis.config_models import Colofon

    with pytest.raises(Exception, match="ingevuld"):
        Colofon(ingevuld=True)
    with pytest.raises(Exception, match="email"):
        Colofon(email="geen adres")


def test_map_section_without_geometry_says_so(ctx):
    from analysis.factsheets.sheet import Sheet

    reg = ctx.regions.copy()
    reg["geometry"] = None
    html = Sheet(_with(ctx, regions=reg), A).kaart()
    assert "geen kaart beschikbaar" in html and "<figure" not in html


def test_chart_source_names_an_aggregated_source_once_and_says_how_larger_areas_were_computed():
    from analysis.factsheets.charts import source_caption

    synth = "synthetisch (analysis.sources.synthetic, seed 1)"
    kaart = "85618NED (Wijk- en buurtkaart 2023, PDOK)"
    rows = pd.DataFrame(
        {
            "source_table": [
                f"aggregatie van buurten: {synth}",
                synth,
                f"aggregatie van buurten: {kaart}",
                kaart,
            ],
            "origin": ["synthetic", "synthetic", "snapshot", "snapshot"],
            "year": [2013, 2024, 2023, 2023],
            "provisional": [False, False, False, False],
        }
    )
    cap = source_caption(rows)
    assert cap.count("synthetisch (2013-2024; synthetische invulling)") == 1, cap
    assert cap.count("85618NED") == 1 and "aggregatie van" not in cap, cap
    assert cap.endswith("cijfers van grotere gebieden berekend uit die van de buurten"), cap
    # a chart of directly published figures only: no such line
    assert "berekend uit" not in source_caption(rows.iloc[[1, 3]])
