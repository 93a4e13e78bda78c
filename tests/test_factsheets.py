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

A, B = "BU06420305", "FG03"  # Planetenbuurt and focus area Dichtersbuurt midden


@pytest.fixture(scope="module")
def analysed(built, tmp_path_factory):
    """Processed tables plus resilience and goals outputs, with the env pointing at them."""
    paths, _ = built
    from analysis.goals.run import run as run_goals
    from analysis.resilience.run import run as run_res

    outputs = tmp_path_factory.mktemp("outputs")
    p = Paths(raw=paths.raw, processed=paths.processed, outputs=outputs)
    old = {k: os.environ.get(k) for k in ("VEERKRACHT_RAW", "VEERKRACHT_PROCESSED", "VEERKRACHT_OUTPUTS")}
    os.environ.update(
        VEERKRACHT_RAW=str(p.raw), VEERKRACHT_PROCESSED=str(p.processed), VEERKRACHT_OUTPUTS=str(p.outputs)
    )
    run_res(p, n_sim=100)
    run_goals(p)
    yield p
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def two_sheets(analysed):
    res = run_batch(analysed, only=[A, B], force=True, workers=2, progress=False)
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
        # synthetic values on the page: banner and badges
        assert "banner-synthetic" in html and "badge-synthetic" in html
        assert "Bronnen en methode" in html and "85618NED" in html


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


def test_failing_area_does_not_stop_batch(analysed, monkeypatch, capsys):
    monkeypatch.setenv("VEERKRACHT_FAIL_AREA", B)
    rc = cli.main(["factsheets", "--only", A, B, "--force", "--workers", "1"])
    assert rc == 1
    manifest = json.loads((analysed.outputs / "factsheets" / "manifest.json").read_text())
    entries = {e["area"]: e for e in manifest["areas"]}
    assert entries[A]["status"] == "ok" and entries[B]["status"] == "failed"
    assert "geforceerde fout" in entries[B]["error"]
    assert "FG03 mislukt" in capsys.readouterr().out


def test_unknown_area_code_is_a_clear_error(analysed, capsys):
    assert cli.main(["factsheets", "--only", "BU06429999"]) == 2
    assert "unknown area code" in capsys.readouterr().err
    assert cli.main(["factsheets", "--only", "BU06420103"]) == 2  # 0 inhabitants
    assert "no fact sheet" in capsys.readouterr().err


def test_sheet_does_not_depend_on_the_sheet_before_it_in_the_same_kernel(analysed, tmp_path):
    """One worker = one kernel: B after A must equal B after B-first (byte for byte)."""
    outs = []
    for order in ([A, B], [B, A]):
        p = Paths(raw=analysed.raw, processed=analysed.processed, outputs=tmp_path / "-".join(order))
        for sub in ("resilience", "goals"):
            shutil.copytree(analysed.outputs / sub, p.outputs / sub)
        res = run_batch(p, only=order, force=True, workers=1, progress=False)
        assert res["ok"] == 2
        manifest = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
        outs.append(
            {e["area"]: (p.outputs / "factsheets" / e["file"]).read_bytes() for e in manifest["areas"]}
        )
    assert outs[0][B] == outs[1][B]
    assert outs[0][A] == outs[1][A]


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
