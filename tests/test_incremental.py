"""The incremental pipeline (analysis.incremental): a stage reruns only when something it reads
changed, `veerkracht report` says per stage "ongewijzigd" or why it reran and what changed, and a
threshold change in config/resilience.yaml reruns resilience and the sheets, not build or goals.

Planted inputs: a copy of config/ and a tiny raw tree in tmp_path; the stages are stand-ins that
write a file and record themselves like the real commands do (the real stages' recording is run by
every `make report` and by test_cli's end-to-end check)."""

from __future__ import annotations

import argparse
import shutil

import pandas as pd
import pytest

from analysis import cli, incremental
from analysis.cli.common import area_code
from analysis.config import CONFIG_DIR, Paths


@pytest.fixture
def planted(tmp_path, monkeypatch) -> Paths:
    cfg = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, cfg)
    monkeypatch.setattr(incremental, "CONFIG_DIR", cfg)
    raw = tmp_path / "raw"
    (raw / "local").mkdir(parents=True)
    (raw / "local" / "focusgebieden.csv").write_text("buurtcode,focusgebied\nBU06420101,FG01\n")
    (raw / "cbs" / "nederland").mkdir(parents=True)
    (raw / "pdok" / "GM0505").mkdir(parents=True)
    return Paths(raw=raw, processed=tmp_path / "processed", outputs=tmp_path / "outputs", gemeente="GM0642")


def _run(stage: str, paths: Paths, content: str = "x", options: dict | None = None) -> None:
    """A stand-in stage: writes its output, then records itself (as cli/stages.py does)."""
    out = incremental.output_dir(stage, paths)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.csv").write_text(content)
    incremental.record(stage, paths, options)


def _all(paths: Paths) -> None:
    for stage in ("build", "resilience", "goals", "factsheets"):
        _run(stage, paths)


def _stale(paths: Paths) -> list[str]:
    return [s for s in incremental.STAGES if incremental.changes(s, paths)]


def test_nothing_changed_means_no_stage_is_stale(planted):
    assert incremental.changes("build", planted) == ["geen eerdere run"]
    _all(planted)
    assert _stale(planted) == []


def test_a_threshold_change_makes_only_resilience_and_the_sheets_stale(planted):
    _all(planted)
    cfg = incremental.CONFIG_DIR / "resilience.yaml"
    cfg.write_text(cfg.read_text().replace("  level: 1.0", "  level: 0.8"))
    assert _stale(planted) == ["resilience", "factsheets"]
    assert incremental.changes("resilience", planted) == ["gewijzigd: config/resilience.yaml"]


def test_a_comment_or_a_sheet_only_setting_changes_no_data_stage(planted):
    _all(planted)
    cfg = incremental.CONFIG_DIR / "resilience.yaml"
    cfg.write_text("# a new comment line\n" + cfg.read_text())
    assert _stale(planted) == []
    settings = incremental.CONFIG_DIR / "settings.yaml"
    settings.write_text(settings.read_text().replace("  afdeling: null", "  afdeling: Onderzoek"))
    assert _stale(planted) == ["factsheets"]  # the colophon is on the sheets only


def test_a_raw_file_change_reruns_the_build_and_then_everything_after_it(planted):
    _all(planted)
    (planted.local / "focusgebieden.csv").write_text("buurtcode,focusgebied\nBU06420101,FG02\n")
    assert _stale(planted) == ["build"]
    assert incremental.changes("build", planted) == [f"gewijzigd: {planted.local / 'focusgebieden.csv'}"]
    _run("build", planted)
    assert incremental.changes("resilience", planted) == ["build opnieuw gedraaid"]
    assert incremental.changes("goals", planted) == ["build opnieuw gedraaid"]
    # other municipalities' pulls and the national cache are not this build's inputs
    (planted.raw / "pdok" / "GM0505" / "buurten.geojson").write_text("{}")
    (planted.raw / "cbs" / "nederland" / "x.parquet").write_bytes(b"1")
    assert incremental.changes("build", planted) == []


def test_an_edited_or_missing_output_and_other_options_rerun_the_stage(planted):
    _all(planted)
    (planted.outputs / "goals" / "result.csv").write_text("edited by hand")
    assert incremental.changes("goals", planted) == ["uitvoer sinds de run gewijzigd (result.csv)"]
    (planted.outputs / "goals" / "result.csv").unlink()
    assert incremental.changes("goals", planted) == ["uitvoer ontbreekt (result.csv)"]
    assert incremental.changes("resilience", planted, {"n_sim": 100}) == ["andere opties"]
    _run("goals", planted)
    (planted.outputs / "voortgangsrapportage.html").write_text("report")  # written by goals, beside goals/
    incremental.record("goals", planted)
    (planted.outputs / "voortgangsrapportage.html").unlink()
    assert incremental.changes("goals", planted) == ["uitvoer ontbreekt (../voortgangsrapportage.html)"]
    incremental.record_path("build", planted).unlink()
    assert incremental.changes("build", planted) == ["geen eerdere run"]


def test_describe_counts_class_changes_and_status_changes():
    old = pd.DataFrame(
        {
            "region_code": ["BU1", "BU2", "BU3", "WK1"],
            "level": ["buurt", "buurt", "buurt", "wijk"],
            "signaal": ["signaal", "geen signaal", "aandacht", "signaal"],
            "A_niveau_gemeente": [1.0, 0.0, 0.5, 1.0],
            "B_niveau_gemeente": [0.0, 0.0, 0.0, 0.0],
        }
    )
    new = old.assign(signaal=["geen signaal", "signaal", "aandacht", "geen signaal"])
    assert incremental.describe("resilience", old, new) == (
        "2 buurten van klasse veranderd, 0 buurten met een andere score"
    )
    new = new.assign(A_niveau_gemeente=[1.0, 0.1, 0.5, 2.0])
    assert incremental.describe("resilience", old, new).endswith("1 buurt met een andere score")
    st = pd.DataFrame({"doel_id": ["D1", "D1", "D2"], "region_code": ["FG00", "FG01", None]})
    assert incremental.describe(
        "goals", st.assign(status=["op koers", "risico", "niet meetbaar"]), st.assign(status="op koers")
    ) == ("2 doelstatussen veranderd, 0 nieuw, 0 vervallen")
    assert incremental.describe("build", None, st) == "nieuw gemaakt"


def _fake_stages(monkeypatch, calls: list):
    def fake(stage):
        def fn(ns):
            calls.append((stage, bool(getattr(ns, "force", False))))
            options = {"build": cli.stages.build_options, "resilience": cli.stages.resilience_options}
            if stage in ("build", "resilience", "goals"):
                _run(stage, ns.paths, options=options[stage](ns) if stage in options else None)
            else:
                incremental.record("factsheets", ns.paths)
            return 0

        return fn

    for stage in ("build", "resilience", "goals", "factsheets"):
        monkeypatch.setattr(cli.stages, f"cmd_{stage}", fake(stage))
    monkeypatch.setattr("analysis.factsheets.runner.likely_to_render", lambda paths, force=False: False)


def _report(paths: Paths, force=False) -> int:
    ns = argparse.Namespace(
        only=None,
        force=force,
        workers=1,
        force_workers=False,
        paths=paths,
        scope=None,
        niveau=None,
        scheduler=None,
    )
    return cli.cmd_report(ns)


def test_report_reruns_only_what_changed_and_says_so(planted, monkeypatch, capsys):
    calls: list = []
    _fake_stages(monkeypatch, calls)
    assert _report(planted) == 0
    assert {c[0] for c in calls} == {"build", "resilience", "factsheets"}  # goals ran in the child
    calls.clear()
    capsys.readouterr()

    assert _report(planted) == 0
    out = capsys.readouterr().out
    assert calls == [("factsheets", False)]  # the runner still checks its sheets, unforced
    for stage in ("build", "resilience", "goals"):
        assert f"{stage}: ongewijzigd" in out

    cfg = incremental.CONFIG_DIR / "resilience.yaml"
    cfg.write_text(cfg.read_text().replace("  change: 0.5", "  change: 0.4"))
    calls.clear()
    assert _report(planted) == 0
    out = capsys.readouterr().out
    # the runner's fingerprint covers the thresholds: it re-renders the sheets itself, unforced
    assert calls == [("resilience", False), ("factsheets", False)]
    assert "resilience: opnieuw (gewijzigd: config/resilience.yaml)" in out
    assert "build: ongewijzigd" in out and "goals: ongewijzigd" in out

    calls.clear()
    assert _report(planted, force=True) == 0
    assert sorted(c[0] for c in calls) == ["build", "factsheets", "resilience"]  # + goals in the child


@pytest.mark.parametrize(
    "given", ["bu06420101", "BU06420101", "Bu06420101", " bu06420101-slagveld-en-omgeving.html"]
)
def test_only_takes_the_code_in_any_case_or_the_sheet_file_name(given):
    assert area_code(given) == "BU06420101"
    args = cli.build_parser().parse_args(["factsheets", "--only", given, "fg01"])
    assert args.only == ["BU06420101", "FG01"]
    args = cli.build_parser().parse_args(["report", "--only", given])
    assert args.only == ["BU06420101"]


def test_asking_one_area_reports_that_area_not_the_whole_batch(tmp_path, capsys):
    import json

    from analysis.cli.stages import _say_only

    manifest = {
        "areas": [
            {"area": "BU06420101", "name": "Slagveld", "status": "ok", "skipped": True, "file": "a.html"},
            {"area": "BU06420102", "name": "Veerplein", "status": "ok", "skipped": False, "file": "b.html"},
            {"area": "BU06420104", "name": "Balkengat", "status": "failed", "file": None},
        ]
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    result = {"dir": tmp_path, "ok": 1, "skipped": 86, "failed": 0}
    assert _say_only(["BU06420101"], result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("factsheet BU06420101 Slagveld: ongewijzigd")
    assert lines[0].endswith(str(tmp_path / "a.html"))
    assert lines[1].startswith("factsheets: 1 gevraagd: 0 gemaakt, 1 ongewijzigd, 0 mislukt")
    assert _say_only(["BU06420102", "BU06420104"], result)
    out = capsys.readouterr().out
    assert "BU06420102 Veerplein: gemaakt" in out and "BU06420104 Balkengat: mislukt" in out
    assert "2 gevraagd: 1 gemaakt, 0 ongewijzigd, 1 mislukt" in out


def test_a_stage_failing_on_bad_input_leaves_its_record_and_outputs_as_they_were(planted, monkeypatch):
    from analysis.errors import InputError

    _all(planted)
    before = {p: p.read_bytes() for p in planted.processed.iterdir()}

    def bad_build(paths, use_cache=True):
        raise InputError("data/raw/local/x.csv: kolom jaar ontbreekt")

    monkeypatch.setattr("analysis.processed.build.build", bad_build)
    with pytest.raises(InputError):
        cli.stages.cmd_build(argparse.Namespace(paths=planted, no_cache=True))
    assert {p: p.read_bytes() for p in planted.processed.iterdir()} == before
    assert incremental.changes("build", planted) == []


# --- the sheet runner's fingerprint (factsheets/planning.py) ------------------------------------


@pytest.fixture
def sheet_config(tmp_path, monkeypatch):
    from analysis import config

    cfg = tmp_path / "config_sheets"
    shutil.copytree(CONFIG_DIR, cfg)
    monkeypatch.setattr(config, "CONFIG_DIR", cfg)
    return cfg


@pytest.mark.parametrize(
    "name", ["settings.yaml", "resilience.yaml", "indicators.yaml", "indicators_uitleg.yaml", "doelen.yaml"]
)
def test_an_edit_of_each_configuration_file_a_sheet_reads_changes_the_fingerprint(built, sheet_config, name):
    from analysis.factsheets.planning import TEMPLATE, fingerprint_inputs, fingerprint_of

    paths, _ = built
    before = fingerprint_inputs(paths, TEMPLATE)
    f = sheet_config / name
    f.write_text(f.read_text(encoding="utf-8") + "\n# alleen commentaar\n", encoding="utf-8")
    assert fingerprint_inputs(paths, TEMPLATE) == before  # a comment is no change
    f.write_text(f.read_text(encoding="utf-8") + "\nnieuwe_sleutel_voor_de_test: 1\n", encoding="utf-8")
    after = fingerprint_inputs(paths, TEMPLATE)
    assert [k for k in after if after[k] != before[k]] == [f"config/{name}"]
    assert fingerprint_of(after) != fingerprint_of(before)


def test_the_runner_says_which_input_made_it_render_a_sheet_again(built, sheet_config, tmp_path):
    from analysis.factsheets.planning import (
        TEMPLATE,
        fingerprint_inputs,
        fingerprint_of,
        list_areas,
        plan_sheets,
        remember_inputs,
        why_rerendered,
    )
    from analysis.processed.build import load_regions

    paths, _ = built
    out = tmp_path / "sheets"
    out.mkdir()
    areas = list_areas(load_regions(paths), 0)
    areas = areas[areas["sheet"]].head(3)
    old = fingerprint_inputs(paths, TEMPLATE)
    fp_old = fingerprint_of(old)
    remember_inputs(out, fp_old, old)
    previous = {}
    for a in areas.itertuples():
        (out / f"{a.slug}.html").write_text("blad")
        previous[a.region_code] = {"area": a.region_code, "fingerprint": fp_old, "status": "ok"}
    todo, kept = plan_sheets(areas, previous, out, fp_old)
    assert todo == [] and len(kept) == 3  # nothing changed: every sheet kept

    uitleg = sheet_config / "indicators_uitleg.yaml"
    uitleg.write_text(uitleg.read_text(encoding="utf-8") + "\nnieuwe_sleutel_voor_de_test: 1\n")
    now = fingerprint_inputs(paths, TEMPLATE)
    fp = fingerprint_of(now)
    todo, kept = plan_sheets(areas, previous, out, fp)
    assert len(todo) == 3 and kept == {}
    assert why_rerendered(todo, previous, out, fp, now, False) == {
        "gewijzigd: config/indicators_uitleg.yaml": 3
    }
