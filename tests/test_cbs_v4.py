"""OData v4 reader beside v3: the same KWB 2024 table (real 85984NED metadata and values) served in
the v3 shape and in the v4 shape of CBS's own v4 examples gives equal processed rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.config import cbs_registry
from analysis.sources import cbs
from tests.fake_cbs import FakeCbs, kwb_table, v4_table
from tests.test_cbs import _client, _fetch, _kwb

TABLE = "85984NED"


def _v4_setup():
    raw = kwb_table(2024, TABLE)
    spec = _kwb({2024: TABLE})["kwb"]
    found, _ = cbs.resolve_topics(raw, TABLE, spec)
    codes = {key: f"M{n:06d}" for n, key in enumerate(sorted(found.values()), start=352)}  # constructed
    measures = {ind: codes[key] for ind, key in found.items()}
    reg4 = {"kwb": {**spec, "catalog": "datasets.cbs.nl", "odata": "v4", "v4_measures": {TABLE: measures}}}
    return raw, codes, reg4


def _rows(cache, registry) -> pd.DataFrame:
    long = cbs.cached_indicators(cache, registry, cbs.Selection("GM0642", "NL00", ("GM0505",)))
    return long.sort_values(["region_code", "year", "indicator"]).reset_index(drop=True)


def test_v3_and_v4_give_the_same_processed_rows(tmp_path):
    raw, codes, reg4 = _v4_setup()
    reg3 = _kwb({2024: TABLE})
    with FakeCbs({TABLE: raw}, page_size=7, v4={TABLE: v4_table(raw, codes)}) as srv:
        s3, _ = _fetch(srv, reg3, tmp_path / "v3")
        s4, lines = _fetch(srv, reg4, tmp_path / "v4")
        v4_data = [q for p, q in srv.requests if p == f"/odata/v1/CBS/{TABLE}/Observations"]
    assert s3["pulled"] == [TABLE] and s4["pulled"] == [TABLE], lines
    assert len(v4_data) > 1  # paged through @odata.nextLink
    assert "startswith(WijkenEnBuurten,'BU0642')" in v4_data[0]["$filter"]  # unpadded v4 codes
    v3, v4 = _rows(tmp_path / "v3", reg3), _rows(tmp_path / "v4", reg4)
    assert len(v3) > 50
    pd.testing.assert_frame_equal(v3, v4)
    m = json.loads(next((tmp_path / "v4" / TABLE).glob("GM0642_*/manifest.json")).read_text())
    assert m["odata"] == "v4" and m["registry_catalog"] == "datasets.cbs.nl"


def test_v4_measures_are_mapped_by_code_not_by_name(tmp_path):
    raw, codes, reg4 = _v4_setup()
    v4 = v4_table(raw, codes)
    for mc in v4["MeasureCodes"]:  # titles changed: the codes still map
        mc["Title"] = "andere titel"
    wrong = {
        **reg4["kwb"],
        "v4_measures": {TABLE: {**reg4["kwb"]["v4_measures"][TABLE], "inwoners": "M999999"}},
    }
    with FakeCbs({}, v4={TABLE: v4}) as srv:
        ok, _ = _fetch(srv, reg4, tmp_path / "a")
        bad, lines = _fetch(srv, {"kwb": wrong}, tmp_path / "b")
    assert ok["pulled"] == [TABLE]
    assert [f["table_id"] for f in bad["failed"]] == [TABLE] and "M999999" in lines[0]


def test_v4_resume_after_a_cut_and_change_of_host(tmp_path):
    raw, codes, reg4 = _v4_setup()
    v4 = {TABLE: v4_table(raw, codes)}
    with FakeCbs({}, page_size=7, v4=v4) as first:
        first.rule = lambda p, q: "503" if p.endswith("Observations") and q.get("$skip") == "14" else None
        failed, _ = _fetch(first, reg4, tmp_path)
    assert [f["table_id"] for f in failed["failed"]] == [TABLE]
    with FakeCbs({}, page_size=7, v4=v4) as second:
        done, lines = _fetch(second, reg4, tmp_path, client=_client(second.url))
        skips = [q.get("$skip") for p, q in second.requests if p.endswith("Observations")]
    assert done["pulled"] == [TABLE] and done["tables"][0]["resumed_from_page"] == 2, lines
    assert skips[0] == "14"


def test_registry_tables_stay_on_v3_until_v4_measure_codes_are_known():
    assert all(spec.get("odata", "v3") == "v3" for spec in cbs_registry().values())


def test_registry_accepts_odata_v4_with_measure_codes_and_refuses_it_without(tmp_path):
    from analysis.config_models import validate_cbs_groups
    from analysis.errors import InputError

    _, _, reg4 = _v4_setup()
    assert validate_cbs_groups(reg4, tmp_path / "cbs_tables.yaml") == reg4
    for bad in ({"v4_measures": None}, {"odata": "v5"}):
        spec = {k: v for k, v in {**reg4["kwb"], **bad}.items() if v is not None}
        with pytest.raises(InputError, match="cbs_tables.yaml"):
            validate_cbs_groups({"kwb": spec}, tmp_path / "cbs_tables.yaml")
