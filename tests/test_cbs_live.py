"""Live CBS, second round (issue 26): resume after a change of host, every missing table named, the
host actually used in the manifest, option checks, circuit breaker; against tests/fake_cbs.py."""

from __future__ import annotations

import json
import subprocess

import pytest

from analysis.config import PROJ_ROOT, cbs_registry
from analysis.errors import InputError
from analysis.sources import cbs
from tests.fake_cbs import FakeCbs, kwb_table, ses_table
from tests.test_cbs import _client, _fetch, _kwb, _values


def test_resume_after_a_change_of_host_rebuilds_the_saved_link(tmp_path):
    """D1: a partial pull saved against one server resumes against another (mirror, port, environment)."""
    reg = _kwb({2024: "85984NED"})
    table = {"85984NED": kwb_table(2024, "85984NED")}
    with FakeCbs(table, page_size=5) as first:
        first.rule = lambda path, q: (
            "503" if path.endswith("TypedDataSet") and q.get("$skip") == "10" else None
        )
        summary, _ = _fetch(first, reg, tmp_path)
    assert [f["table_id"] for f in summary["failed"]] == ["85984NED"]
    partial = next((tmp_path / "85984NED").glob(".partial-GM0642_*"))
    assert json.loads((partial / "state.json").read_text())["pages"] == 2
    with FakeCbs(table, page_size=5) as second:  # the first server is gone; another port
        summary, lines = _fetch(second, reg, tmp_path)
        skips = [q.get("$skip") for p, q in second.requests if p.endswith("TypedDataSet")]
    assert summary["pulled"] == ["85984NED"], lines
    assert summary["tables"][0]["resumed_from_page"] == 2
    assert skips[0] == "10" and "0" not in skips  # pages 0-1 reused, the rest from the new host
    assert _values(tmp_path, reg)["GM0642", 2024, "inwoners"] == 44874


def test_next_link_is_rebuilt_on_the_current_base_with_its_prefix():
    link = "https://opendata.cbs.nl/ODataFeed/odata/85984NED/TypedDataSet?$format=json&$skip=10"
    base = "http://mirror.example:8080/cbs/ODataFeed/odata"
    assert cbs.rebase_link(link, base) == (
        "http://mirror.example:8080/cbs/ODataFeed/odata/85984NED/TypedDataSet?$format=json&$skip=10"
    )


def test_missing_year_tables_are_named_and_leave_no_folder(tmp_path):
    """D2: a KWB year table that answers 404 is a named failure, not silent; no empty folder left."""
    reg = _kwb({2019: "84583NED", 2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        summary, lines = _fetch(srv, reg, tmp_path)
    assert summary["pulled"] == ["85984NED"]
    assert [f["table_id"] for f in summary["failed"]] == ["84583NED"]
    assert any("84583NED" in line and "niet gevonden" in line for line in lines), lines
    assert not (tmp_path / "84583NED").exists()


def test_cli_fetch_with_a_missing_year_table_exits_non_zero(tmp_paths, monkeypatch, capsys):
    from analysis.cli import main

    monkeypatch.setattr("analysis.config.cbs_registry", lambda: _kwb({2019: "84583NED", 2024: "85984NED"}))
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        monkeypatch.setenv(cbs.ENV_CATALOG, srv.url)
        rc = main(["fetch", "--budget", "60"])
    out, err = capsys.readouterr()
    assert rc == 1 and "84583NED" in err and "1 mislukt" in out


def test_manifest_records_the_host_actually_used(tmp_path):
    """D3: data from a mirror or test server is not labelled opendata.cbs.nl."""
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        summary, _ = _fetch(srv, reg, tmp_path)
        host = srv.url.split("://", 1)[1]
    assert summary["pulled"] == ["85984NED"]
    manifest = json.loads(next((tmp_path / "85984NED").glob("GM0642_*/manifest.json")).read_text())
    assert manifest["catalog"] == host and manifest["registry_catalog"] == "opendata.cbs.nl"
    assert cbs.host_of("https://opendata.cbs.nl/ODataFeed/odata") == "opendata.cbs.nl"
    assert cbs.host_of("http://m:81/x/ODataFeed/odata") == "m:81/x"


def test_budget_line_names_the_pages_kept_for_the_next_pull(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}, page_size=5) as srv:
        srv.rule = lambda p, q: "stall" if p.endswith("TypedDataSet") and q.get("$skip") == "10" else None
        client = _client(srv.url, read_timeout_s=30)
        summary, lines = _fetch(srv, reg, tmp_path, client=client, budget_s=1.5)
    assert summary["not_pulled"] == ["85984NED"]
    assert any("bewaard voor de volgende keer: 85984NED (2)" in line for line in lines), lines


def test_circuit_breaker_stops_after_consecutive_transport_failures_and_names_the_rest(tmp_path):
    years = {2020: "84799NED", 2021: "85039NED", 2022: "85318NED", 2023: "85618NED", 2024: "85984NED"}
    reg = _kwb(years)
    with FakeCbs({t: kwb_table(y, t) for y, t in years.items()}) as srv:
        srv.rule = lambda p, q: "503"  # CBS answers, but every request fails
        client = _client(srv.url, max_failures=2)
        summary, lines = _fetch(srv, reg, tmp_path, client=client)
        asked = {p.split("/")[3] for p, _ in srv.requests if p.count("/") >= 3}
    assert [f["table_id"] for f in summary["failed"]] == ["84799NED", "85039NED"]
    assert summary["skipped"] == ["85318NED", "85618NED", "85984NED"]
    assert asked == {"84799NED", "85039NED"}  # the skipped tables were not tried
    assert any("niet geprobeerd: 85318NED, 85618NED, 85984NED" in line for line in lines), lines


def test_a_failure_that_is_not_transport_does_not_trip_the_breaker(tmp_path):
    reg = _kwb({2019: "84583NED", 2020: "84799NED", 2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:  # two 404s in a row
        summary, _ = _fetch(srv, reg, tmp_path, client=_client(srv.url, max_failures=1))
    assert summary["pulled"] == ["85984NED"] and summary["skipped"] == []


@pytest.mark.parametrize("argv", [["--gemeente", "", "fetch"], ["--gemeente", " ", "build"]])
def test_empty_gemeente_is_an_error(tmp_paths, capsys, argv):
    from analysis.cli import main

    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("fout: --gemeente: lege gemeentecode")


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0"])
def test_budget_must_be_a_positive_finite_number(tmp_paths, capsys, value):
    from analysis.cli import main

    assert main(["fetch", "--budget", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fout: --budget {value}: moet ") and err.count("\n") == 1


def test_cbs_settings_refuse_non_finite_numbers():
    for bad in ({"budget_s": float("nan")}, {"read_timeout_s": float("inf")}, {"max_failures": 0}):
        with pytest.raises(InputError, match="ongeldige waarde"):
            cbs.CbsSettings.from_settings(bad, env={})


def test_make_data_runs_the_pdok_step_whatever_cbs_did_and_fails_if_anything_failed(tmp_path):
    log = tmp_path / "log"
    vk = tmp_path / "vk"
    vk.write_text(f'#!/bin/sh\necho "$1" >> {log}\n[ "$1" != fetch ]\n')
    vk.chmod(0o755)
    run = subprocess.run(
        ["make", "-s", "-o", "install", "-o", ".venv/.installed", "data", f"VK={vk}"],
        cwd=PROJ_ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert log.read_text().split() == ["fetch", "kaart"]


def _kwb_2024_without(column_prefix: str) -> dict:
    raw = kwb_table(2024, "85984NED")
    rows = [{k: v for k, v in r.items() if not k.startswith(column_prefix)} for r in raw["TypedDataSet"]]
    return {**raw, "TypedDataSet": rows}


def test_cached_table_whose_rows_lack_the_required_column_is_refused(tmp_path):
    """Issue 27: DataProperties list AantalInwoners, the rows do not: not a silent change of aggregates."""
    sel = cbs.Selection("GM0642", "NL00", ("GM0505",))
    meta = {"registry_key": "kwb", "year": 2024}
    cbs.write_cache(tmp_path, "85984NED", _kwb_2024_without("AantalInwoners"), meta, sel)
    with pytest.raises(InputError, match=r"85984NED: verplichte kolom 'AantalInwoners_\d+' \(inwoners\)"):
        cbs.cached_indicators(tmp_path, _kwb({2024: "85984NED"}), sel)


def test_build_stops_on_a_cache_without_the_inhabitants_column(tmp_paths, capsys):
    from analysis.cli import main
    from analysis.config import settings

    sel = cbs.Selection.from_settings(settings())
    raw, meta = _kwb_2024_without("AantalInwoners"), {"registry_key": "kwb", "year": 2024}
    cbs.write_cache(tmp_paths.cbs_cache, "85984NED", raw, meta, sel)
    assert main(["build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fout: CBS-tabel 85984NED: verplichte kolom") and not tmp_paths.processed.exists()


def test_cache_folder_holding_another_municipalitys_pull_is_refused(tmp_path):
    """Issue 27: the folder name is GM0642's, the manifest's selection GM0505's."""
    mine = cbs.Selection("GM0642", "NL00", ("GM0505",))
    other = cbs.Selection("GM0505", "NL00", ("GM0642",))
    folder = cbs.write_cache(
        tmp_path, "85984NED", kwb_table(2024, "85984NED"), {"registry_key": "kwb"}, other
    )
    folder.rename(folder.with_name(mine.key))
    with pytest.raises(InputError, match=r"CBS-cache van gemeente 'GM0505' staat in de map van GM0642"):
        cbs.cached_indicators(tmp_path, _kwb({2024: "85984NED"}), mine)


@pytest.mark.parametrize("shape", ["flat", "published", "nested"])
def test_ses_woa_edition_without_exact_keys_maps_the_published_topic_groups(shape):
    """An edition not in editions_keys falls back to TopicGroup titles: "Financiële welvaart" and the
    nested "Deelscore ..." titles map, welvaart does not come out "ontbreekt"."""
    spec = cbs_registry()["sesoa"]
    raw = ses_table("99999NED", shape=shape)
    found, absent = cbs.resolve_topics(raw, "99999NED", spec)
    assert absent == []
    assert found == {
        "ses_woa": "GemiddeldeScore_29",
        "ses_woa_welvaart": "GemiddeldeScore_31",
        "ses_woa_opleiding": "GemiddeldeScore_33",
        "ses_woa_arbeid": "GemiddeldeScore_35",
    }
    v = cbs.harmonise(raw, "99999NED", spec).set_index(["region_code", "year", "indicator"])["value"]
    rows = {(r["WijkenEnBuurten"].strip(), r["Perioden"]): r for r in raw["TypedDataSet"]}
    assert v["BU06420101", 2019, "ses_woa_welvaart"] == rows["BU06420101", "2019JJ00"]["GemiddeldeScore_31"]


def test_ses_woa_two_groups_matching_one_indicator_is_an_error():
    spec = cbs_registry()["sesoa"]
    raw = ses_table("99999NED", shape="published")
    extra = {"ID": 900, "ParentID": None, "Type": "TopicGroup", "Key": "", "Title": "Welvaart"}
    topic = {
        "ID": 901,
        "ParentID": 900,
        "Type": "Topic",
        "Key": "GemiddeldeScore_41",
        "Title": "Gemiddelde score",
    }
    raw = {**raw, "DataProperties": [*raw["DataProperties"], extra, topic]}
    with pytest.raises(InputError, match=r"ses_woa_welvaart' past bij meerdere kolommen.*GemiddeldeScore_31"):
        cbs.resolve_topics(raw, "99999NED", spec)


def test_ses_woa_default_edition_is_86296ned():
    assert cbs_registry()["sesoa"]["editions"][0] == "86296NED"
    assert cbs.title_norm("Deelscore Financiële  welvaart") == cbs.title_norm("Financiele welvaart")
