"""RIVM 50150NED (Gezondheid per wijk en buurt, dataderden): adults 18+, central estimate plus the 95%
bounds, pulled from the CBS-shaped test server and built; "hoger dan de gemeente" only where the
intervals are apart."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.config import cbs_registry
from analysis.errors import InputError
from analysis.sources import cbs
from analysis.sources.cbs import margins
from tests.fake_cbs import RIVM_MARGES, FakeCbs, registry_tables, rivm_table, rivm_value


def test_rivm_adults_estimate_and_bounds_from_the_right_categories():
    long = cbs.harmonise(rivm_table(), "50150NED", cbs_registry()["rivm"])
    v = long.set_index(["region_code", "year", "indicator"])["value"]
    est = rivm_value(2, 2024, 3) + 12.0  # BU06420101, Eenzaam_25 (topic 3), 18+ (no age offset)
    assert v["BU06420101", 2024, "rivm_eenzaam_pct"] == pytest.approx(est)
    assert v["BU06420101", 2024, "rivm_eenzaam_pct_ondergrens"] == pytest.approx(est - 4.0)
    assert v["BU06420101", 2024, "rivm_eenzaam_pct_bovengrens"] == pytest.approx(est + 4.0)
    assert v["NL00", 2012, "rivm_moeite_rondkomen_pct"] == pytest.approx(
        rivm_value(0, 2012, 4)
    )  # NL01 -> NL00
    assert sorted(long["year"].unique()) == [2012, 2016, 2020, 2022, 2024]
    assert set(long["source_table"]) == {"50150NED"} and set(long["origin"]) == {"cbs"}


def test_hoger_dan_de_gemeente_only_where_the_intervals_are_apart():
    long = cbs.harmonise(rivm_table(), "50150NED", cbs_registry()["rivm"])
    assert margins.compare(long, "BU06420101", "GM0642", "rivm_eenzaam_pct", 2024) == "hoger"
    # BU06420102's estimate is above the gemeente's, but the intervals overlap
    est = long.set_index(["region_code", "year", "indicator"])["value"]
    assert est["BU06420102", 2024, "rivm_eenzaam_pct"] > est["GM0642", 2024, "rivm_eenzaam_pct"]
    assert margins.compare(long, "BU06420102", "GM0642", "rivm_eenzaam_pct", 2024) == "niet te onderscheiden"
    assert margins.compare(long, "GM0642", "BU06420101", "rivm_eenzaam_pct", 2024) == "lager"
    assert margins.compare(long, "BU06420101", "GM0642", "ses_woa", 2024) is None  # no bounds: no verdict


def test_margins_resolved_by_title_ambiguity_is_an_error_listing_the_titles():
    raw = rivm_table()
    twice = [*RIVM_MARGES, {"Key": "MOG0090", "Title": "Ondergrens 90%-interval", "Description": None}]
    with pytest.raises(InputError, match=r"'Marges' heeft 2 categorieën voor 'lower'.*MOG0090"):
        cbs.harmonise({**raw, "Marges": twice}, "50150NED", cbs_registry()["rivm"])


def test_cli_fetch_then_build_gives_rivm_indicators_with_bounds(tmp_paths, monkeypatch, capsys):
    from analysis.cli import main

    with FakeCbs(registry_tables(cbs_registry()), page_size=200) as srv:
        monkeypatch.setenv(cbs.ENV_CATALOG, srv.url)
        assert main(["fetch", "--table", "rivm", "--budget", "60"]) == 0
        asked = [q.get("$filter", "") for q in srv.data_requests("50150NED")]
    assert asked and all("Leeftijd eq '20300'" in f and "Marges" not in f for f in asked)
    assert main(["build"]) == 0
    capsys.readouterr()
    ind = pd.read_parquet(tmp_paths.indicators)
    rivm = ind[ind["source_table"] == "50150NED"].set_index(["region_code", "year", "indicator"])
    est = rivm_value(2, 2024, 3) + 12.0
    assert rivm.loc[("BU06420101", 2024, "rivm_eenzaam_pct"), "value"] == pytest.approx(est)
    assert rivm.loc[("BU06420101", 2024, "rivm_eenzaam_pct_bovengrens"), "value"] == pytest.approx(est + 4)
    assert set(rivm["origin"]) == {"cbs"}


def test_rivm_indicators_and_bounds_are_available_to_the_resilience_axes(tmp_path):
    import yaml

    from analysis.config import CONFIG_DIR
    from analysis.resilience.config import load_config

    cfg = yaml.safe_load((CONFIG_DIR / "resilience.yaml").read_text(encoding="utf-8"))
    cfg["axes"]["A"]["indicators"]["rivm_lage_veerkracht_pct"] = {"direction": 1, "weight": 1}
    cfg["bounds"]["rivm_lage_veerkracht_pct"] = [
        "rivm_lage_veerkracht_pct_ondergrens",
        "rivm_lage_veerkracht_pct_bovengrens",
    ]
    path = tmp_path / "resilience.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    loaded = load_config(path)
    assert loaded.axes["A"].indicators["rivm_lage_veerkracht_pct"].direction == 1
    assert loaded.bounds["rivm_lage_veerkracht_pct"][1] == "rivm_lage_veerkracht_pct_bovengrens"
