"""CBS client against CBS-shaped fakes: a real local HTTP server (tests/fake_cbs.py) built from the
real 85984NED metadata and values and the facts of issue 8, and `responses` for request-level cases."""

from __future__ import annotations

import json
import threading

import pandas as pd
import pytest
import requests
import responses

from analysis.config import cbs_registry, indicator_catalog
from analysis.errors import InputError, SourceUnavailable
from analysis.sources import cbs
from tests.conftest import kwb_meta
from tests.fake_cbs import (
    LAAG_INKOMEN_DIMS,
    FakeCbs,
    compile_filter,
    kwb_table,
    laag_inkomen_table,
    politie_table,
    registry_tables,
    ses_table,
)

SEL = ("GM0642", "NL00", ("GM0505",))


def _client(url: str, **kw) -> cbs.CbsClient:
    kw = {"retries": 1, "backoff_s": 0.0, "probe_timeout_s": 1.0, **kw}
    return cbs.CbsClient(cbs.CbsSettings(catalog_url=url, **kw))


def _only(group: str, **over) -> dict:
    spec = {**cbs_registry()[group], **over}
    return {group: spec}


def _kwb(years: dict) -> dict:
    return _only("kwb", years=years)


def _fetch(srv: FakeCbs, registry: dict, cache, gemeente="GM0642", others=("GM0505",), **kw):
    lines: list[str] = []
    client = kw.pop("client", None) or _client(srv.url)
    summary = cbs.fetch_all(
        client, registry, gemeente, cache, range(2013, 2025), log=lines.append, others=others, **kw
    )
    return summary, lines


def _values(cache, registry, gemeente="GM0642", others=("GM0505",)) -> pd.Series:
    long = cbs.cached_indicators(cache, registry, cbs.Selection(gemeente, "NL00", others))
    return long.set_index(["region_code", "year", "indicator"])["value"]


# --- harmonisation ------------------------------------------------------------------------------


def test_base_key_strips_numeric_suffix():
    assert cbs.base_key("HuishoudensMetEenLaagInkomen_89") == "HuishoudensMetEenLaagInkomen"
    assert cbs.base_key("k_40HuishoudensMetLaagsteInkomen_87") == "k_40HuishoudensMetLaagsteInkomen"


def test_fetch_2024_gives_the_real_values_with_filtered_region_dimension(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        summary, lines = _fetch(srv, reg, tmp_path)
        region_q = [q for p, q in srv.requests if p.endswith("/85984NED/WijkenEnBuurten")]
        data_q = srv.data_requests("85984NED")
    assert summary["pulled"] == ["85984NED"] and lines == []
    v = _values(tmp_path, reg)
    assert v["GM0642", 2024, "inwoners"] == 44874 and v["WK064201", 2024, "inwoners"] == 9715
    assert v["GM0505", 2024, "inwoners"] > 0  # comparison municipality
    assert ("WK050501", 2024, "inwoners") not in v.index  # its wijken are not asked for
    assert ("BU06420301", 2024, "huishoudens") not in v.index  # '.' -> missing, not 0
    # the region dimension is filtered like the data (not downloaded whole)
    assert len(region_q) == 1 and "substringof('BU0642',Key)" in region_q[0]["$filter"]
    assert "substringof('BU0642',WijkenEnBuurten)" in data_q[0]["$filter"]
    cached = json.loads(next((tmp_path / "85984NED").glob("GM0642_*/WijkenEnBuurten.json")).read_text())
    assert {r["Key"].strip()[:6] for r in cached} <= {"NL00", "GM0642", "GM0505", "WK0642", "BU0642"}


def test_harmonise_maps_different_suffixes_across_editions():
    spec = cbs_registry()["kwb"]
    rows = kwb_table(2016, "83487NED")["TypedDataSet"]
    old = cbs.harmonise({"TypedDataSet": rows}, "83487NED", spec, year=2016)
    new = cbs.harmonise(kwb_table(2024, "85984NED"), "85984NED", spec, year=2024)
    assert "HuishoudensMetEenLaagInkomen_76" in rows[0] and "HuishoudensMetEenLaagInkomen_89" not in rows[0]
    assert {"inwoners", "laag_inkomen_pct", "woz"} <= set(old["indicator"]) & set(new["indicator"])


def test_provisional_flags_come_from_dataproperties():
    keys = cbs.provisional_keys(kwb_meta())
    assert "AantalInkomensontvangers_81" in keys  # "Het betreft voorlopige cijfers."
    assert "AantalInwoners_5" not in keys


def test_missing_expected_column_is_a_named_error():
    raw = kwb_table(2024, "85984NED")
    raw = {**raw, "DataProperties": [p for p in raw["DataProperties"] if p["Key"] != "AantalInwoners_5"]}
    with pytest.raises(InputError, match=r"85984NED.*AantalInwoners"):
        cbs.harmonise(raw, "85984NED", cbs_registry()["kwb"], year=2024)
    with pytest.raises(InputError, match="WijkenEnBuurten"):
        cbs.harmonise({"TypedDataSet": [{"X": 1}]}, "85984NED", cbs_registry()["kwb"], year=2024)


def test_empty_result_is_a_named_error():
    with pytest.raises(InputError, match="85984NED: leeg antwoord"):
        cbs.harmonise({"TypedDataSet": []}, "85984NED", cbs_registry()["kwb"], year=2024)


def test_every_registry_indicator_is_in_the_indicator_catalogue():
    catalog = indicator_catalog()
    for group, spec in cbs_registry().items():
        for ind in spec["indicators"]:
            assert ind in catalog, f"{group}: {ind} missing from config/indicators.yaml"
    assert {"ao_personen", "ao_per_1000", "lage_koopkracht_pct"} <= set(catalog)


# --- the real tables -----------------------------------------------------------------------------


def test_ses_woa_one_edition_four_keys_without_collision(tmp_path):
    reg = _only("sesoa")
    with FakeCbs({"86296NED": ses_table()}) as srv:
        summary, _ = _fetch(srv, reg, tmp_path)
    assert summary["pulled"] == ["86296NED"]
    assert "Waarde_32 (Welvaart: Waarde_32)" in summary["tables"][0]["unmapped_topics"]
    assert not [t for t in summary["tables"][0]["unmapped_topics"] if t.startswith("GemiddeldeScore")]
    long = cbs.cached_indicators(tmp_path, reg, cbs.Selection(*SEL))
    v = long.set_index(["region_code", "year", "indicator"])["value"]
    rows = {(r["WijkenEnBuurten"].strip(), r["Perioden"]): r for r in ses_table()["TypedDataSet"]}
    src = rows["BU06420101", "2019JJ00"]
    assert v["BU06420101", 2019, "ses_woa"] == src["GemiddeldeScore_29"]
    assert v["BU06420101", 2019, "ses_woa_welvaart"] == src["GemiddeldeScore_31"]
    assert v["BU06420101", 2019, "ses_woa_opleiding"] == src["GemiddeldeScore_33"]
    assert v["BU06420101", 2019, "ses_woa_arbeid"] == src["GemiddeldeScore_35"]
    assert sorted(long["year"].unique()) == list(range(2014, 2025))
    prov = long.drop_duplicates("year").set_index("year")["provisional"]
    assert prov[2024] and not prov[2023]  # title "2024*"


def test_ses_woa_mapping_by_topic_group_and_collision_is_an_error():
    spec = cbs_registry()["sesoa"]
    raw = ses_table("99999NED")  # an edition without full keys in the registry: TopicGroup decides
    long = cbs.harmonise(raw, "99999NED", spec)
    v = long.set_index(["region_code", "year", "indicator"])["value"]
    assert v["GM0642", 2020, "ses_woa_arbeid"] == pytest.approx(v["GM0642", 2020, "ses_woa"] + 0.05)
    naive = {**spec, "editions_keys": {}, "indicators": {"ses_woa": {"keys": ["GemiddeldeScore"]}}}
    with pytest.raises(InputError, match=r"ses_woa' past bij meerdere kolommen.*GemiddeldeScore_29"):
        cbs.harmonise(raw, "86296NED", naive)
    wrong = {**spec, "editions_keys": {"86296NED": {"ses_woa": "GemiddeldeScore_3"}}}
    with pytest.raises(InputError, match="GemiddeldeScore_3' ontbreekt"):
        cbs.harmonise(raw, "86296NED", wrong)


def test_ses_woa_falls_back_to_the_next_edition_when_the_first_is_not_published(tmp_path):
    with FakeCbs({"86092NED": ses_table("86092NED")}) as srv:
        summary, lines = _fetch(srv, _only("sesoa"), tmp_path, others=())
    assert summary["pulled"] == ["86092NED"] and summary["failed"] == []
    assert lines == ["CBS 86296NED: niet gevonden; volgende editie 86092NED"]


def test_kwb_2013_regios_and_old_names_and_indicators_only_from_2018(tmp_path):
    reg = _kwb({2013: "82339NED", 2017: "83765NED", 2018: "84286NED"})
    tables = {t: kwb_table(y, t) for y, t in reg["kwb"]["years"].items()}
    assert "RegioS" in tables["82339NED"]["TypedDataSet"][0]
    with FakeCbs(tables) as srv:
        summary, lines = _fetch(srv, reg, tmp_path)
        q2013 = srv.data_requests("82339NED")[0]["$filter"]
    assert summary["failed"] == [] and len(summary["pulled"]) == 3
    assert "substringof('GM0642',RegioS)" in q2013
    v = _values(tmp_path, reg)
    assert v["GM0642", 2013, "woz"] == 250  # GemiddeldeWoningwaarde_33
    assert v["GM0642", 2017, "woz"] == 254  # GemiddeldeWoningwaarde_35
    assert v["GM0642", 2013, "bijstand_personen"] == round(40_000 * 0.03)  # PersonenMetEenWWB…
    assert ("GM0642", 2013, "lage_koopkracht_pct") in v.index
    assert ("GM0642", 2013, "laag_inkomen_pct") not in v.index  # not mapped onto another concept
    status = {(a["indicator"], a["table_id"]): a["status"] for a in summary["availability"]}
    assert status["arbeidsparticipatie_pct", "82339NED"].startswith("n.v.t.")
    assert status["arbeidsparticipatie_pct", "84286NED"] == "aanwezig"
    assert status["lage_koopkracht_pct", "84286NED"].startswith("n.v.t.")
    assert status["laag_inkomen_pct", "82339NED"] == "ontbreekt"  # this fake's 2013 has none
    gone = "laag_inkomen_pct, sociaal_minimum_pct, ao_personen"
    assert lines == [f"CBS 82339NED: verwachte indicatoren niet in de tabel: {gone}"]
    saved = json.loads(next(tmp_path.glob("fetch_summary.GM0642_*.json")).read_text())
    assert saved["availability"] == summary["availability"]


def test_85678ned_three_dimensions_resolved_by_title(tmp_path):
    reg = _only("laag_inkomen_hh")
    with FakeCbs({"85678NED": laag_inkomen_table()}) as srv:
        summary, _ = _fetch(srv, reg, tmp_path)
        f = srv.data_requests("85678NED")[0]["$filter"]
    assert summary["pulled"] == ["85678NED"]
    assert "(InkomensgrensHuishouden eq 'A048860')" in f and "(DuurInkomenspositie eq 'T001021')" in f
    assert "(KenmerkenVanHuishoudens eq '1050010')" in f
    want = next(
        r
        for r in laag_inkomen_table()["TypedDataSet"]
        if r["RegioS"].strip() == "GM0642"
        and r["Perioden"] == "2021JJ00"
        and (r["InkomensgrensHuishouden"], r["DuurInkomenspositie"], r["KenmerkenVanHuishoudens"])
        == ("A048860", "T001021", "1050010")
    )
    assert "(RegioS eq 'NL01      ')" in f and summary["missing_regions"] == {}
    v = _values(tmp_path, reg)
    assert ("NL00", 2021, "personen_laag_inkomen") in v.index  # NL01 stored as the project's NL00
    assert v["GM0642", 2021, "kinderen_laag_inkomen"] == want["MinderjarigeKinderen_3"]
    assert v["GM0642", 2021, "hh_laag_inkomen"] == want["ParticuliereHuishoudens_1"]


def test_85678ned_unknown_title_stops_that_table_with_the_available_titles(tmp_path):
    dims = {**LAAG_INKOMEN_DIMS, "DuurInkomenspositie": [("X1", "Alle duren"), ("X2", "4 jaar of langer")]}
    reg = {**_only("laag_inkomen_hh"), **_kwb({2024: "85984NED"})}
    tables = {"85678NED": laag_inkomen_table(dims=dims), "85984NED": kwb_table(2024, "85984NED")}
    with FakeCbs(tables) as srv:
        summary, lines = _fetch(srv, reg, tmp_path)
    assert summary["pulled"] == ["85984NED"]
    (err,) = [line for line in lines if "85678NED" in line]
    assert "DuurInkomenspositie" in err and "'Totaal'" in err and "Alle duren" in err


def test_47018ned_total_category_uses_the_padded_key_server_side(tmp_path):
    assert not [r for r in politie_table()["TypedDataSet"] if compile_filter("SoortMisdrijf eq '0.0.0'")(r)]
    reg = _only("politie")
    with FakeCbs({"47018NED": politie_table()}) as srv:
        summary, _ = _fetch(srv, reg, tmp_path)
        f = srv.data_requests("47018NED")[0]["$filter"]
    assert summary["pulled"] == ["47018NED"]
    assert "(SoortMisdrijf eq '0.0.0 ')" in f
    v = _values(tmp_path, reg)
    assert v["GM0642", 2023, "misdrijven"] == 100 + 5 * 1 + 2  # the total, not a sub-category


def test_alphanumeric_area_codes_are_accepted_everywhere():
    from analysis.processed.build import _check_codes
    from analysis.processed.schemas import CODE_PATTERN

    raw = kwb_table(2024, "85984NED", regions=["GM0363", "WK0363AA", "BU0363AA01"])
    long = cbs.harmonise(raw, "85984NED", cbs_registry()["kwb"], year=2024)
    assert {"WK0363AA", "BU0363AA01"} <= set(long["region_code"])
    assert set(long.loc[long.region_code == "BU0363AA01", "level"]) == {"buurt"}
    assert long["region_code"].str.match(CODE_PATTERN).all()
    assert "substringof('BU0363',WijkenEnBuurten)" in cbs.Selection("GM0363").filter("WijkenEnBuurten")
    known = {"GM0363", "WK0363AA"}
    with pytest.raises(InputError, match="BU0363AA01"):  # recognised as this municipality's code
        _check_codes(long, known, "GM0363", "cache")


# --- faults --------------------------------------------------------------------------------------


def test_offline_is_decided_fast_and_leaves_no_cache(tmp_path):
    # a closed local port: connection refused, like a machine without network
    client = cbs.CbsClient(cbs.CbsSettings(catalog_url="127.0.0.1:9", use_https=False))
    lines: list[str] = []
    summary = cbs.fetch_all(
        client, cbs_registry(), "GM0642", tmp_path / "cbs", range(2013, 2025), log=lines.append
    )
    assert summary["pulled"] == [] and len(summary["offline"]) == 16
    assert len(lines) == 1 and "niet bereikbaar" in lines[0]
    assert summary["seconds"] < 5  # a bound on hanging, not a speed target
    assert not (tmp_path / "cbs").exists()


def test_slow_server_is_not_offline(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        srv.delay_s = 0.4  # slower than the probe and the connect timeout: still a working server
        client = _client(srv.url, probe_timeout_s=0.1, connect_timeout_s=0.1, read_timeout_s=5)
        summary, lines = _fetch(srv, reg, tmp_path, client=client)
    assert summary["offline"] == [] and summary["pulled"] == ["85984NED"], lines


def _run_bounded(fn, limit_s: float):
    """Run fn in a thread; fail (instead of hanging the suite) if it does not return in limit_s."""
    out: dict = {}
    t = threading.Thread(target=lambda: out.setdefault("r", fn()), daemon=True)
    t.start()
    t.join(limit_s)
    assert not t.is_alive(), f"fetch did not return within {limit_s} s"
    return out["r"]


def test_stalled_server_ends_within_the_budget_and_keeps_what_was_pulled(tmp_path):
    reg = _kwb({2023: "85618NED", 2024: "85984NED"})
    tables = {"85618NED": kwb_table(2023, "85618NED"), "85984NED": kwb_table(2024, "85984NED")}
    with FakeCbs(tables) as srv:
        srv.rule = lambda path, q: "stall" if path.endswith("85984NED/TypedDataSet") else None
        client = _client(srv.url, read_timeout_s=30, retries=2)
        summary, lines = _run_bounded(lambda: _fetch(srv, reg, tmp_path, client=client, budget_s=1.5), 15)
    assert summary["pulled"] == ["85618NED"] and summary["not_pulled"] == ["85984NED"]
    assert any("tijdsbudget op" in line and "85984NED" in line for line in lines)
    assert any("geen pagina's opgehaald" in line for line in lines)  # no page of it was fetched
    assert not any("bewaard" in line for line in lines)
    assert ("GM0642", 2023, "inwoners") in _values(tmp_path, reg).index


def test_trickling_server_cannot_outlast_the_budget(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        srv.rule = lambda path, q: "trickle" if path.endswith("DataProperties") else None
        client = _client(srv.url, read_timeout_s=30)
        summary, lines = _run_bounded(lambda: _fetch(srv, reg, tmp_path, client=client, budget_s=1.0), 15)
    assert summary["not_pulled"] == ["85984NED"] and summary["pulled"] == []
    assert any("tijdsbudget op" in line for line in lines)


def test_connection_cut_mid_response_is_retried_then_one_line_and_others_continue(tmp_path):
    reg = _kwb({2022: "85318NED", 2023: "85618NED", 2024: "85984NED"})
    tables = {t: kwb_table(y, t) for y, t in reg["kwb"]["years"].items()}
    with FakeCbs(tables) as srv:
        srv.rule = lambda path, q: "cut" if path.endswith("85618NED/TypedDataSet") else None
        summary, lines = _fetch(srv, reg, tmp_path)
        attempts = len(srv.data_requests("85618NED"))
    assert summary["pulled"] == ["85318NED", "85984NED"]
    assert [f["table_id"] for f in summary["failed"]] == ["85618NED"] and attempts == 2  # 1 + 1 retry
    (line,) = lines
    assert "85618NED" in line and "verbinding verbroken tijdens het antwoord" in line and "\n" not in line
    assert "Error" not in line and "urllib3" not in line and "HTTPConnectionPool" not in line


def test_a_single_cut_is_recovered_by_the_retry(tmp_path):
    reg = _kwb({2024: "85984NED"})
    cuts = []

    def once(path, q):
        if path.endswith("TypedDataSet") and not cuts:
            cuts.append(path)
            return "cut"
        return None

    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        srv.rule = once
        summary, _ = _fetch(srv, reg, tmp_path)
    assert cuts and summary["pulled"] == ["85984NED"]


def test_paging_resumes_at_the_page_that_failed(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}, page_size=5) as srv:
        srv.rule = lambda path, q: "503" if path.endswith("TypedDataSet") and q.get("$skip") == "10" else None
        first, _ = _fetch(srv, reg, tmp_path)
        assert [f["table_id"] for f in first["failed"]] == ["85984NED"]
        partial = next((tmp_path / "85984NED").glob(".partial-GM0642_*"))
        assert json.loads((partial / "state.json").read_text())["pages"] == 2
        srv.rule = lambda path, q: None
        before = len(srv.requests)
        second, _ = _fetch(srv, reg, tmp_path)
        resumed = [q.get("$skip") for p, q in srv.requests[before:] if p.endswith("TypedDataSet")]
    assert second["pulled"] == ["85984NED"] and second["tables"][0]["resumed_from_page"] == 2
    assert resumed[0] == "10" and "0" not in resumed and None not in resumed  # pages 0-1 not fetched again
    assert not partial.exists()
    v = _values(tmp_path, reg)
    assert v["GM0642", 2024, "inwoners"] == 44874 and v["BU06420301", 2024, "inwoners"] > 0


@responses.activate
def test_transient_errors_are_retried_a_bounded_number_of_times():
    url = "https://cbs.test/ODataFeed/odata/85984NED/"
    responses.get(url, body=requests.ConnectionError("down"))
    sleeps: list[float] = []
    client = cbs.CbsClient(cbs.CbsSettings(retries=2, backoff_s=0.5), sleep=sleeps.append)
    with pytest.raises(
        SourceUnavailable, match=r"^geen verbinding \(geweigerd of verbroken\) \(na 3 pogingen\)$"
    ):
        client.get(url, None, cbs.Deadline(None))
    assert len(responses.calls) == 3  # first try + 2 retries
    assert sleeps == [0.5, 1.0]


@responses.activate
def test_503_then_success_recovers_and_404_is_not_retried():
    url = "https://cbs.test/ODataFeed/odata/85984NED/"
    responses.get(url, status=503)
    responses.get(url, json={"value": []})
    assert cbs.CbsClient(cbs.CbsSettings(backoff_s=0)).get(url, None, cbs.Deadline(None)) == {"value": []}
    responses.get("https://cbs.test/x", status=404)
    with pytest.raises(cbs.NotFound):
        cbs.CbsClient(cbs.CbsSettings(backoff_s=0)).get("https://cbs.test/x", None, cbs.Deadline(None))
    assert len(responses.calls) == 3


def test_every_request_has_a_timeout_capped_by_the_budget(tmp_path):
    seen = []
    orig = requests.Session.send

    def spy(self, request, **kw):
        seen.append(kw.get("timeout"))
        return orig(self, request, **kw)

    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv, pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.Session, "send", spy)
        client = _client(srv.url, connect_timeout_s=1.5, read_timeout_s=9)
        _fetch(srv, _kwb({2024: "85984NED"}), tmp_path, client=client, budget_s=60)
    assert len(seen) >= 6
    assert all(t is not None and 0 < t[0] <= 1.5 and 0 < t[1] <= 9 for t in seen)


# --- cache and selection --------------------------------------------------------------------------


def test_cache_is_kept_per_municipality_selection(tmp_path):
    reg = _kwb({2024: "85984NED"})
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        a, _ = _fetch(srv, reg, tmp_path, gemeente="GM0505", others=("GM0642",))
        b, _ = _fetch(srv, reg, tmp_path, gemeente="GM0642", others=("GM0505",))
    assert a["pulled"] == b["pulled"] == ["85984NED"]
    assert len([p for p in (tmp_path / "85984NED").iterdir() if not p.name.startswith(".")]) == 2
    dordrecht = _values(tmp_path, reg, "GM0505", ("GM0642",))
    zwijndrecht = _values(tmp_path, reg, "GM0642", ("GM0505",))
    assert ("WK050501", 2024, "inwoners") in dordrecht.index
    assert ("WK050501", 2024, "inwoners") not in zwijndrecht.index
    assert zwijndrecht["WK064201", 2024, "inwoners"] == 9715


def test_changed_comparison_list_reads_the_newest_pull_of_the_same_municipality(tmp_path):
    raw = kwb_table(2024, "85984NED")
    meta = {"registry_key": "kwb", "year": 2024}
    cbs.write_cache(tmp_path, "85984NED", raw, meta, cbs.Selection("GM0505", "NL00", ("GM0642",)))
    cbs.write_cache(tmp_path, "85984NED", raw, meta, cbs.Selection("GM0642", "NL00", ("GM0505",)))
    wider = cbs.Selection("GM0642", "NL00", ("GM0505", "GM0531"))
    long = cbs.cached_indicators(tmp_path, cbs_registry(), wider)
    assert (long["source_table"] == "85984NED").all() and "WK064201" in set(long["region_code"])
    assert cbs.cached_indicators(tmp_path, cbs_registry(), cbs.Selection("GM0590")).empty


def test_a_second_fetch_of_the_same_selection_waits_its_turn(tmp_path):
    import os

    reg = _kwb({2024: "85984NED"})
    lock = tmp_path / "85984NED" / f".lock-{cbs.Selection(*SEL).key}"
    lock.parent.mkdir(parents=True)
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED")}) as srv:
        lock.write_text(str(os.getpid()))  # a live process holds it
        busy, lines = _fetch(srv, reg, tmp_path)
        lock.write_text("999999999")  # left by a process that is gone
        taken, _ = _fetch(srv, reg, tmp_path)
    assert busy["pulled"] == [] and "wordt al opgehaald" in busy["failed"][0]["error"]
    assert taken["pulled"] == ["85984NED"] and not lock.exists()


def test_requested_regions_missing_from_the_answer_are_reported(tmp_path):
    # the real 85984NED extract has no NL row: the answer for NL00 is empty
    with FakeCbs({"85984NED": kwb_table(2024, "85984NED", national=False)}) as srv:
        summary, lines = _fetch(srv, _kwb({2024: "85984NED"}), tmp_path)
    assert summary["pulled"] == ["85984NED"] and summary["missing_regions"] == {"85984NED": ["NL00"]}
    assert lines == ["CBS 85984NED: gevraagde regio's niet in het antwoord: NL00"]


def test_cache_write_failure_leaves_previous_cache(tmp_path):
    sel = cbs.Selection(*SEL)
    raw = kwb_table(2024, "85984NED")
    cbs.write_cache(tmp_path, "85984NED", raw, {"registry_key": "kwb", "year": 2024}, sel)
    before = cbs.cached_indicators(tmp_path, cbs_registry(), sel)

    class Boom(dict):
        def items(self):
            yield "TableInfos", raw["TableInfos"]
            raise OSError("disk full")

    with pytest.raises(OSError):
        cbs.write_cache(tmp_path, "85984NED", Boom(), {"registry_key": "kwb", "year": 2024}, sel)
    assert [p.name for p in (tmp_path / "85984NED").iterdir()] == [sel.key]
    assert len(before) > 100
    pd.testing.assert_frame_equal(cbs.cached_indicators(tmp_path, cbs_registry(), sel), before)


def test_region_filter_pads_codes_and_includes_comparison_municipalities():
    f = cbs.region_filter("WijkenEnBuurten", "GM0642", others=("GM0505",))
    assert "substringof('BU0642',WijkenEnBuurten)" in f
    assert "(WijkenEnBuurten eq 'NL00      ')" in f and "(WijkenEnBuurten eq 'GM0505    ')" in f


# --- redirect and command line --------------------------------------------------------------------


def test_one_setting_or_environment_variable_redirects_every_catalog(tmp_path):
    reg = {**_kwb({2024: "85984NED"}), **_only("politie")}
    assert {s["catalog"] for s in reg.values()} == {"opendata.cbs.nl", "dataderden.cbs.nl"}
    tables = {"85984NED": kwb_table(2024, "85984NED"), "47018NED": politie_table()}
    with FakeCbs(tables) as srv:
        by_setting = cbs.CbsSettings.from_settings({"catalog_url": srv.url, "backoff_s": 0}, env={})
        by_env = cbs.CbsSettings.from_settings(
            {"catalog_url": None, "backoff_s": 0}, env={cbs.ENV_CATALOG: srv.url}
        )
        for i, s in enumerate((by_setting, by_env)):
            summary, _ = _fetch(srv, reg, tmp_path / str(i), client=cbs.CbsClient(s))
            assert sorted(summary["pulled"]) == ["47018NED", "85984NED"]
    assert cbs.CbsSettings.from_settings({"catalog_url": None}, env={}).base("dataderden.cbs.nl") == (
        "https://dataderden.cbs.nl/ODataFeed/odata"
    )


def test_cbs_settings_are_checked_key_by_key():
    for bad, key in (
        ({"budget_s": 0}, "budget_s"),
        ({"retries": "2"}, "retries"),
        ({"timeout": 3}, "timeout"),
    ):
        with pytest.raises(InputError, match=f"settings.yaml: sleutel 'cbs.{key}'"):
            cbs.CbsSettings.from_settings(bad, env={})
    assert cbs.CbsSettings.from_settings({"budget_s": 60, "retries": 0}, env={}).budget_s == 60


def test_cli_fetch_then_build_gives_cbs_values_for_every_registry_table(tmp_paths, monkeypatch, capsys):
    from analysis.cli import main

    registry = cbs_registry()
    with FakeCbs(registry_tables(registry), page_size=200) as srv:
        monkeypatch.setenv(cbs.ENV_CATALOG, srv.url)
        rc = main(["fetch", "--budget", "60"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "fetch: 16 opgehaald, 0 mislukt" in out and "fetch_summary.GM0642_" in out
    assert main(["build"]) == 0
    ind = pd.read_parquet(tmp_paths.indicators)
    cbs_tables = set(ind.loc[ind["origin"] == "cbs", "source_table"])
    wanted = {*registry["kwb"]["years"].values(), "86296NED", "47018NED", "85678NED", "50150NED"}
    assert wanted <= cbs_tables
    row = ind.set_index(["region_code", "year", "indicator"]).loc[("GM0642", 2024, "inwoners")]
    assert row["value"] == 44874 and row["origin"] == "cbs"


def test_cli_exit_codes_and_errors_on_stderr(tmp_paths, monkeypatch, capsys):
    from analysis.cli import main

    monkeypatch.setenv(cbs.ENV_CATALOG, "http://127.0.0.1:9")  # nothing listens: offline
    assert main(["fetch", "--table", "politie"]) == 0
    out, err = capsys.readouterr()
    assert "niet bereikbaar" in err and "1 overgeslagen (offline)" in out
    with FakeCbs({}) as srv:  # reachable, but the table is not there
        monkeypatch.setenv(cbs.ENV_CATALOG, srv.url)
        assert main(["fetch", "--table", "politie"]) == 1
    out, err = capsys.readouterr()
    assert "47018NED" in err and "niet gevonden" in err and "1 mislukt" in out
    assert main(["fetch", "--table", "nope"]) == 2
    assert capsys.readouterr().err.startswith("fout: --table nope: onbekende tabelgroep")
    assert main(["fetch", "--budget", "0"]) == 2
    assert capsys.readouterr().err.startswith("fout: --budget")


def test_urls_follow_the_cbsodata_protocol():
    """cbsodata 1.3.5 is the reference for the wire format: same table URL for both catalogs."""
    import cbsodata
    from cbsodata.cbsodata3 import _get_table_url

    for catalog in ("opendata.cbs.nl", "dataderden.cbs.nl"):
        for https in (True, False):
            old = cbsodata.options.use_https
            cbsodata.options.use_https = https
            try:
                ref = _get_table_url("47018NED", catalog_url=catalog)
            finally:
                cbsodata.options.use_https = old
            ours = cbs.CbsSettings(use_https=https).base(catalog) + "/47018NED/"
            assert ours.lower() == ref.lower()
