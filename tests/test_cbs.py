"""CBS client, faked at the HTTP level with the real 85984NED metadata responses."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import requests
import responses

from analysis.config import cbs_registry
from analysis.errors import InputError, SourceUnavailable
from analysis.sources import cbs
from tests.conftest import kwb_meta

HOST = "cbs.test"
BASE = f"https://{HOST}/ODataFeed/odata"


def _settings(**kw) -> cbs.CbsSettings:
    return cbs.CbsSettings(catalog_url=HOST, use_https=True, retries=2, backoff_s=0.0, **kw)


def _rows(suffix_inw: str = "_5", suffix_li: str = "_89") -> list[dict]:
    # the data part is constructed (the real TypedDataSet was not obtainable); codes padded as CBS does
    return [
        {
            "ID": 0,
            "WijkenEnBuurten": "NL00      ",
            f"AantalInwoners{suffix_inw}": 17942942,
            f"HuishoudensMetEenLaagInkomen{suffix_li}": 7.9,
            "PersonenPerSoortUitkeringBijstand_94": 410000,
        },
        {
            "ID": 1,
            "WijkenEnBuurten": "GM0642    ",
            f"AantalInwoners{suffix_inw}": 44874,
            f"HuishoudensMetEenLaagInkomen{suffix_li}": 8.4,
            "PersonenPerSoortUitkeringBijstand_94": 1250,
        },
        {
            "ID": 2,
            "WijkenEnBuurten": "BU06420110",
            f"AantalInwoners{suffix_inw}": 695,
            f"HuishoudensMetEenLaagInkomen{suffix_li}": None,
            "PersonenPerSoortUitkeringBijstand_94": ".",
        },
    ]


def register_table(rsps: responses.RequestsMock, table_id: str, rows: list[dict], meta=None) -> None:
    meta = meta or kwb_meta()
    parts = {
        **meta,
        "TypedDataSet": rows,
        "WijkenEnBuurten": [{"Key": r["WijkenEnBuurten"], "Title": "x"} for r in rows],
    }
    listing = [{"name": n, "url": f"{BASE}/{table_id}/{n}"} for n in [*parts, "UntypedDataSet"]]
    rsps.get(f"{BASE}/{table_id}/", json={"value": listing})
    for name, value in parts.items():
        rsps.get(f"{BASE}/{table_id}/{name}", json={"value": value})
    rsps.get(f"{BASE}/{table_id}/UntypedDataSet", json={"value": rows})


def test_base_key_strips_numeric_suffix():
    assert cbs.base_key("HuishoudensMetEenLaagInkomen_89") == "HuishoudensMetEenLaagInkomen"
    assert cbs.base_key("PersonenPerSoortUitkeringBijstand_74") == cbs.base_key(
        "PersonenPerSoortUitkeringBijstand_87"
    )
    assert cbs.base_key("k_40HuishoudensMetLaagsteInkomen_87") == "k_40HuishoudensMetLaagsteInkomen"


@responses.activate
def test_download_and_harmonise_keeps_codes_and_maps_missing():
    register_table(responses.mock, "85984NED", _rows())
    client = cbs.CbsClient(_settings())
    raw = client.download("85984NED", filters=cbs.region_filter("WijkenEnBuurten", "GM0642"))
    # the request carried the region filter for the municipality, its wijken/buurten and NL
    sent = [c.request.url for c in responses.calls if "DataSet" in c.request.url][0]
    assert "substringof" in requests.utils.unquote(sent) and "GM0642" in requests.utils.unquote(sent)
    long = cbs.harmonise(raw, "85984NED", cbs_registry()["kwb"], year=2024)
    assert set(long["region_code"]) == {"NL00", "GM0642", "BU06420110"}  # trailing spaces gone
    val = long.set_index(["region_code", "indicator"])["value"]
    assert val["GM0642", "inwoners"] == 44874
    assert val["GM0642", "laag_inkomen_pct"] == 8.4
    assert ("BU06420110", "laag_inkomen_pct") not in val.index  # null -> missing, not 0
    assert ("BU06420110", "bijstand_personen") not in val.index  # '.' -> missing
    assert (long["origin"] == "cbs").all() and (long["source_table"] == "85984NED").all()
    rates = cbs.derive_rates(long)
    r = rates[(rates.indicator == "bijstand_per_1000") & (rates.region_code == "GM0642")]
    assert r["value"].iloc[0] == pytest.approx(1250 / 44874 * 1000)


def test_harmonise_maps_different_suffixes_across_editions():
    spec = cbs_registry()["kwb"]
    meta = kwb_meta()
    a = cbs.harmonise({**meta, "TypedDataSet": _rows("_5", "_74")}, "old", spec, year=2016)
    b = cbs.harmonise({**meta, "TypedDataSet": _rows("_8", "_89")}, "new", spec, year=2024)
    assert set(a["indicator"]) == set(b["indicator"]) >= {"inwoners", "laag_inkomen_pct"}


def test_provisional_flags_come_from_dataproperties():
    keys = cbs.provisional_keys(kwb_meta())
    assert "AantalInkomensontvangers" in keys  # "Het betreft voorlopige cijfers."
    assert "AantalInwoners" not in keys


def test_period_dimension_years_and_provisional_star():
    spec = {
        "region_dim": "WijkenEnBuurten",
        "period_dim": "Perioden",
        "required": ["GemiddeldeScore"],
        "indicators": {"GemiddeldeScore": "ses_woa"},
    }
    raw = {
        "DataProperties": [],
        "Perioden": [{"Key": "2021JJ00", "Title": "2021"}, {"Key": "2022JJ00", "Title": "2022*"}],
        "TypedDataSet": [
            {"WijkenEnBuurten": "BU06420110", "Perioden": "2021JJ00", "GemiddeldeScore_3": -0.6},
            {"WijkenEnBuurten": "BU06420110", "Perioden": "2022JJ00", "GemiddeldeScore_3": -0.5},
        ],
    }
    long = cbs.harmonise(raw, "85900NED", spec)
    assert dict(zip(long["year"], long["provisional"], strict=True)) == {2021: False, 2022: True}


def test_missing_expected_column_is_a_named_error():
    rows = [{k: v for k, v in r.items() if not k.startswith("AantalInwoners")} for r in _rows()]
    with pytest.raises(InputError, match=r"85984NED.*AantalInwoners"):
        cbs.harmonise({"TypedDataSet": rows}, "85984NED", cbs_registry()["kwb"], year=2024)
    with pytest.raises(InputError, match="WijkenEnBuurten"):
        cbs.harmonise({"TypedDataSet": [{"X": 1}]}, "85984NED", cbs_registry()["kwb"], year=2024)


def test_empty_result_is_a_named_error():
    with pytest.raises(InputError, match="85984NED: empty result"):
        cbs.harmonise({"TypedDataSet": []}, "85984NED", cbs_registry()["kwb"], year=2024)


@responses.activate
def test_unknown_table_id_is_a_clear_error():
    responses.get(f"{BASE}/99999NED/", status=404)
    with pytest.raises(InputError, match="99999NED: not found"):
        cbs.CbsClient(_settings()).download("99999NED")


@responses.activate
def test_transient_errors_are_retried_a_bounded_number_of_times():
    responses.get(f"{BASE}/85984NED/", body=requests.ConnectionError("down"))
    sleeps: list[float] = []
    client = cbs.CbsClient(_settings(), sleep=sleeps.append)
    with pytest.raises(SourceUnavailable):
        client.download("85984NED")
    assert len(responses.calls) == 3  # first try + 2 retries
    assert sleeps == [0.0, 0.0]


@responses.activate
def test_503_then_success_recovers():
    responses.get(f"{BASE}/85984NED/", status=503)
    register_table(responses.mock, "85984NED", _rows())
    raw = cbs.CbsClient(_settings()).download("85984NED")
    assert len(raw["TypedDataSet"]) == 3


@responses.activate
def test_every_request_has_a_timeout():
    register_table(responses.mock, "85984NED", _rows())
    seen = []
    orig = requests.Session.send

    def spy(self, request, **kw):
        seen.append(kw.get("timeout"))
        return orig(self, request, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.Session, "send", spy)
        cbs.CbsClient(_settings(connect_timeout_s=1.5, read_timeout_s=9)).download("85984NED")
    assert seen and all(t == (1.5, 9) for t in seen)


def test_fetch_all_offline_falls_back_fast(tmp_path):
    # a closed local port: connection refused, like a machine without network
    client = cbs.CbsClient(cbs.CbsSettings(catalog_url="127.0.0.1:9", use_https=False, probe_timeout_s=2.0))
    registry = {"kwb": {**cbs_registry()["kwb"], "catalog": "127.0.0.1:9"}}
    lines: list[str] = []
    summary = cbs.fetch_all(client, registry, "GM0642", tmp_path / "cbs", range(2013, 2025), log=lines.append)
    assert summary["pulled"] == [] and len(summary["offline"]) == 12
    assert len(lines) == 1 and "niet bereikbaar" in lines[0]
    assert summary["seconds"] < 5  # a bound on hanging, not a speed target
    assert not (tmp_path / "cbs").exists()


@responses.activate
def test_fetch_writes_cache_with_manifest_and_build_reads_it(tmp_path):
    responses.get(f"{BASE}/", json={"value": []})  # reachability probe
    register_table(responses.mock, "85984NED", _rows())
    client = cbs.CbsClient(_settings())
    registry = {"kwb": {**cbs_registry()["kwb"], "catalog": HOST, "years": {2024: "85984NED"}}}
    summary = cbs.fetch_all(client, registry, "GM0642", tmp_path, range(2013, 2025))
    assert summary["pulled"] == ["85984NED"]
    manifest = json.loads((tmp_path / "85984NED" / "manifest.json").read_text())
    assert manifest["table_id"] == "85984NED" and manifest["rows"] == 3
    assert manifest["modified"] == "2025-03-27T02:00:00" and len(manifest["sha256"]) == 64
    long = cbs.cached_indicators(tmp_path, registry)
    assert (long.query("region_code == 'GM0642' and indicator == 'inwoners'")["value"] == 44874).all()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp leftovers


def test_cache_write_failure_leaves_previous_cache(tmp_path, monkeypatch):
    meta = kwb_meta()
    cbs.write_cache(
        tmp_path, "85984NED", {**meta, "TypedDataSet": _rows()}, {"registry_key": "kwb", "year": 2024}
    )
    before = (tmp_path / "85984NED" / "manifest.json").read_text()

    class Boom(dict):
        def items(self):
            yield "TableInfos", meta["TableInfos"]
            raise OSError("disk full")

    with pytest.raises(OSError):
        cbs.write_cache(tmp_path, "85984NED", Boom(), {"registry_key": "kwb", "year": 2024})
    assert (tmp_path / "85984NED" / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["85984NED"]
    pd.testing.assert_frame_equal(
        cbs.cached_indicators(tmp_path, cbs_registry()),
        cbs.cached_indicators(tmp_path, cbs_registry()),
    )


def test_fetch_all_with_a_silent_server_is_bounded_by_the_timeout(tmp_path):
    """A server that accepts connections but never answers must not hang the pipeline."""
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    conns: list = []
    stop = threading.Event()

    def accept():  # bounded: stops when the test ends
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        host = f"127.0.0.1:{port}"
        client = cbs.CbsClient(cbs.CbsSettings(catalog_url=host, use_https=False, probe_timeout_s=0.5))
        registry = {"kwb": {**cbs_registry()["kwb"], "catalog": host}}
        summary = cbs.fetch_all(client, registry, "GM0642", tmp_path, range(2024, 2025), log=lambda m: None)
        assert summary["offline"] == ["85984NED"] and summary["seconds"] < 5
    finally:
        stop.set()
        t.join(timeout=2)
        for c in conns:
            c.close()
        srv.close()


def test_region_filter_pads_codes_and_includes_comparison_municipalities():
    f = cbs.region_filter("WijkenEnBuurten", "GM0642", others=("GM0505",))
    assert "substringof('BU0642',WijkenEnBuurten)" in f
    assert "(WijkenEnBuurten eq 'NL00      ')" in f and "(WijkenEnBuurten eq 'GM0505    ')" in f
