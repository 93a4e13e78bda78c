"""Fact sheets end to end: template via papermill, HTML checks, failures, isolation, Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from analysis import cli
from analysis.config import Paths
from analysis.factsheets.fmt import nl_number
from analysis.factsheets.runner import run_batch
from analysis.figures import SYNTHETIC_STAMP
from tests.conftest import descendants, use_paths

A, B = "BU06420305", "FG03"  # Planetenbuurt and focus area Dichtersbuurt midden


@pytest.fixture(scope="module")
def two_sheets(analysed):
    # one worker, one kernel: A runs before B (the isolation test reverses the order)
    res = run_batch(analysed, only=[A, B], force=True, workers=1, progress=False)
    manifest = json.loads((analysed.outputs / "factsheets" / "manifest.json").read_text())
    files = {e["area"]: analysed.outputs / "factsheets" / e["file"] for e in manifest["areas"]}
    return res, manifest, files


def test_two_areas_render_with_computed_numbers(analysed, two_sheets):
    res, manifest, files = two_sheets
    assert res["ok"] == 2 and res["failed"] == 0
    html = files[A].read_text()
    ind = pd.read_parquet(analysed.indicators)
    inw = ind.query("region_code == @A and indicator == 'inwoners' and year == 2023")["value"].iloc[0]
    assert f"woonden in 2023 {nl_number(inw)} mensen" in html
    scores = pd.read_parquet(analysed.outputs / "resilience" / "scores.parquet").set_index("region_code")
    assert f"gemeente): <strong>{scores.loc[A, 'signaal']}</strong>" in html
    assert (
        f"{nl_number(scores.loc[A, 'A_niveau_gemeente'], 2)} ({scores.loc[A, 'A_niveauklasse_gemeente']})"
        in html
    )
    fg = files[B].read_text()
    assert "Dichtersbuurt midden" in fg and str(scores.loc[B, "samenstelling"]) in fg


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
    for code, goal_region in ((A, "FG00"), (B, B)):
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


def test_goals_on_course_count_is_not_zero_where_goals_are_on_course(analysed):
    """In-process (no kernel): areas with goals on course say so on the sheet."""
    from analysis.factsheets.sheet import Sheet, load_context

    ctx = load_context(analysed)
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
    assert "unknown area code" in capsys.readouterr().err
    assert cli.main(["factsheets", "--only", "BU06420103"]) == 2  # 0 inhabitants
    assert "no fact sheet" in capsys.readouterr().err


def test_sheet_does_not_depend_on_the_sheet_before_it_in_the_same_kernel(analysed, two_sheets, tmp_path):
    """One worker = one kernel: two_sheets ran A then B; here B then A. Byte for byte equal."""
    _, _, files = two_sheets
    p = _scratch(analysed, tmp_path)
    res = run_batch(p, only=[B, A], force=True, workers=1, progress=False)
    assert res["ok"] == 2
    manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
    assert [e["area"] for e in manifest["areas"]] == ["FG03", A]
    again = {e["area"]: (p.outputs / "factsheets" / e["file"]).read_bytes() for e in manifest["areas"]}
    assert again[B] == files[B].read_bytes()
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
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1200,1600", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    dom = subprocess.run(
        [*flags, "--dump-dom", url], check=True, capture_output=True, timeout=120, text=True
    ).stdout
    assert "<h1>Planetenbuurt</h1>" in dom


# --- reliability: dead kernels, timeouts, orphans, Ctrl-C, workers, stale sheets -------------------

BATCH_SCRIPT = """
import json, sys
from pathlib import Path
from analysis.config import Paths
from analysis.factsheets.runner import run_batch
from analysis.figures import SYNTHETIC_STAMP
a = json.loads(sys.argv[1])
p = Paths(raw=Path(a["raw"]), processed=Path(a["processed"]), outputs=Path(a["outputs"]))
res = run_batch(p, only=a["only"], force=True, workers=a["workers"], progress=False,
                template=Path(a["template"]), timeout=a["timeout"])
print(json.dumps({k: v for k, v in res.items() if k != "dir"}))
"""

CLI_SCRIPT = """
import functools, sys
from pathlib import Path
from analysis import cli
from analysis.factsheets import runner
runner.run_batch = functools.partial(runner.run_batch, template=Path(sys.argv[1]))
sys.exit(cli.main(sys.argv[2:]))
"""


def _fault_template(tmp_path, faults: dict[str, str]):
    """The real template plus one cell right after the parameters: per area code some Python
    (``"*"``: every area)."""
    import nbformat

    from analysis.factsheets.runner import TEMPLATE

    nb = nbformat.read(TEMPLATE, as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    src = "\n".join(
        f"if {'True' if area == '*' else f'gebied == {area!r}'}:\n    {code}" for area, code in faults.items()
    )
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(src))
    path = tmp_path / "factsheet_fault.ipynb"
    nbformat.write(nb, path)
    return path


def _scratch(analysed, tmp_path) -> Paths:
    p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "outputs")
    for sub in ("resilience", "goals"):
        shutil.copytree(analysed.outputs / sub, p.outputs / sub)
    return p


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


def _wait_for_kernels(proc, n: int, limit: float = 180) -> set[int]:
    """Descendants of ``proc`` once ``n`` kernels run under it (bounded wait, not a speed check)."""
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end:
        kids = descendants(proc.pid)
        if len(_kernels(kids)) >= n:
            return kids
        if proc.poll() is not None:
            pytest.fail(f"batch ended early: {proc.communicate()}")
        time.sleep(0.3)
    pytest.fail(f"no {n} kernels started within {limit} s")


def _gone_or_kill(pids, limit: float = 30) -> list[int]:
    """Wait (bounded) for ``pids`` to end; kill and return the ones that did not."""
    import signal
    import time

    end = time.monotonic() + limit
    while time.monotonic() < end and any(_alive(p) for p in pids):
        time.sleep(0.2)
    alive = [p for p in pids if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    return alive


def test_dead_kernel_and_cell_timeout_fail_that_sheet_and_the_batch_goes_on(analysed, tmp_path):
    """A kernel killed mid-sheet and a cell sleeping past the timeout: both sheets fail with the
    reason, the worker's kernel is restarted, the other sheets are made. A hang fails the test."""
    import signal
    import sys

    codes = ["FG03", "FG05", A]  # one worker: run in this order
    tpl = _fault_template(
        tmp_path,
        {
            "FG03": "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
            "FG05": "import time; time.sleep(600)",
        },
    )
    p = _scratch(analysed, tmp_path)
    arg = dict(
        raw=str(p.raw),
        processed=str(p.processed),
        outputs=str(p.outputs),
        only=codes,
        workers=1,
        template=str(tpl),
        timeout=10,
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH_SCRIPT, json.dumps(arg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=300)  # hang guard: without the fix this never returns
    except subprocess.TimeoutExpired:
        kids = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        _gone_or_kill(kids, 0)
        pytest.fail("batch hung on a dead kernel or an endless cell")
    assert proc.returncode == 0, err
    manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
    e = {x["area"]: x for x in manifest["areas"]}
    assert e["FG03"]["status"] == "failed" and "died" in e["FG03"]["error"].lower()
    assert e["FG05"]["status"] == "failed" and "timed out" in e["FG05"]["error"]
    assert e[A]["status"] == "ok"  # A ran after both failures, in a restarted kernel
    assert (p.outputs / "factsheets" / e[A]["file"]).exists()


def test_kill_9_of_the_batch_takes_workers_and_kernels_with_it(analysed, tmp_path):
    import signal
    import sys

    tpl = _fault_template(tmp_path, {"*": "import time; time.sleep(600)"})
    p = _scratch(analysed, tmp_path)
    arg = dict(
        raw=str(p.raw),
        processed=str(p.processed),
        outputs=str(p.outputs),
        only=["GM0642", "FG03"],
        workers=1,
        template=str(tpl),
        timeout=900,
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", BATCH_SCRIPT, json.dumps(arg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kids = _wait_for_kernels(proc, 1)
    assert len(kids) >= 2  # the worker and its kernel
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _gone_or_kill(kids) == []  # bounded wait; survivors are killed and fail the test


def test_ctrl_c_stops_workers_and_kernels_and_writes_the_manifest(analysed, tmp_path):
    import signal
    import sys

    tpl = _fault_template(tmp_path, {"*": "import time; time.sleep(600)"})
    p = _scratch(analysed, tmp_path)
    env = {
        **os.environ,
        "VEERKRACHT_RAW": str(p.raw),
        "VEERKRACHT_PROCESSED": str(p.processed),
        "VEERKRACHT_OUTPUTS": str(p.outputs),
    }
    cmd = [sys.executable, "-c", CLI_SCRIPT, str(tpl), "factsheets", "--only", "GM0642", "FG03"]
    proc = subprocess.Popen(
        [*cmd, "--workers", "1", "--force"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    kids = _wait_for_kernels(proc, 1)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole process group
    try:
        _, err = proc.communicate(timeout=60)  # hang guard
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _gone_or_kill(kids, 0)
        pytest.fail("Ctrl-C did not stop the batch")
    assert proc.returncode == 130
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
        with pytest.raises(InputError, match="must be 1 or more"):
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
    monkeypatch.setattr("analysis.factsheets.runner.settings", lambda: cfg)
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
    """B fails, A (after it, same kernel) is made; an unreadable manifest plus --only does not drop
    the untouched sheet (FG05) from the overview."""
    from analysis.factsheets.runner import list_areas
    from analysis.processed.build import load_regions

    _, _, files = two_sheets
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
    assert set(entries) == {A, B, "FG05"} and entries["FG05"]["skipped"]
    index = (out / "index.html").read_text()
    assert f'href="{other}.html"' in index and f'href="{files[A].name}"' in index
