"""National scope (issue 13): the all-NL processed set, the grouped resilience pass, and fact sheets
rendered on a Dask LocalCluster (one worker process) — byte-identical to the fork-pool runner, a
killed worker's shard retried, alphanumeric codes (Amsterdam's WK0363AA) handled."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.config import PROJ_ROOT
from analysis.errors import InputError
from tests.national_fixtures import NATIONAL_SHEETS, spy_on_finish

RAW = PROJ_ROOT / "data" / "raw"
# two municipalities: Schiermonnikoog (one wijk) and two of Amsterdam's alphanumeric wijken
ONLY = ["GM0088", "WK008800", "WK0363AA", "WK0363AB"]


@pytest.fixture(scope="module")
def national(national_store, tmp_path_factory):
    """The session's offline national build (tests/national_fixtures.py) and this module's views of
    ONLY, their sheets written to an outputs folder of this module."""
    from analysis.national import run as national

    processed, outputs = national_store, tmp_path_factory.mktemp("nl") / "outputs"
    views = national.views("nederland", None, RAW, processed, outputs, only=ONLY)
    return processed, outputs, views


@pytest.fixture(scope="module")
def worker_root(tmp_path_factory) -> Path:
    """The cluster's workers' project folder (VEERKRACHT_ROOT): EMPTY, no config/, no snapshot, and it
    stays empty (test_workers_need_no_project_folder_and_a_worker_on_other_code_fails_the_run)."""
    return tmp_path_factory.mktemp("leeg")


@pytest.fixture(scope="module")
def cluster(worker_root):
    """ONE Dask worker process (one thread) for every cluster test of this module, started with an
    empty project folder: each run's configuration and snapshot files must come with the run. One
    worker proves what these tests ask (a worker process and its kernel; a run's shards; a killed
    worker replaced by its nanny; two clients on one worker); a second worker would start a second
    process and kernel per run and prove nothing more (shard sizes per worker count: the pure
    test_dask_shards_keep_municipalities_apart_and_shrink_to_single_sheets_at_the_end)."""
    from distributed import Client, LocalCluster

    env = {"VEERKRACHT_ROOT": str(worker_root)}
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0", env=env
    ) as c:
        with Client(c) as client:
            yield client


KEEPER = "veerkracht-kernel-test-keeper"  # the plugin name of KernelPlugin("test-keeper")


def _plugins(client) -> set[str]:
    """The kernel plugins registered on the scheduler (Dask's own, e.g. 'shuffle', left out)."""
    names = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
    return {n for n in names if n.startswith("veerkracht-kernel-")}


@pytest.fixture
def warm(cluster):
    """The cluster with its worker's kernel kept between runs by a plugin of no run (as a second
    client's run on the same workers keeps it): a run's own plugin then starts no kernel, and its
    leaving shuts none down. For the tests whose property is not the kernel's life; the kernel's
    start, sharing and shutdown per run are test_runs_share_the_workers_kernel_and_the_last_to_leave_
    shuts_it_down and test_two_runs_share_one_busy_cluster_and_workers_need_no_shared_paths (`cold`)."""
    from analysis.factsheets.dask_runner import KernelPlugin
    from analysis.factsheets.worker_inputs import pack_project

    if KEEPER not in _plugins(cluster):
        cluster.register_plugin(KernelPlugin("test-keeper", pack_project()))
    return cluster


@pytest.fixture
def cold(cluster):
    """The cluster with no kernel kept: each run starts its worker's kernel, the last to leave stops it."""
    if KEEPER in _plugins(cluster):
        cluster.unregister_worker_plugin(KEEPER)
    assert not _plugins(cluster), _plugins(cluster)
    return cluster


def _sheets(views) -> dict[str, bytes]:
    return {
        f"{p.gemeente}/{f.name}": f.read_bytes()
        for p in views
        for f in sorted((p.outputs / "factsheets").glob("*.html"))
        if f.name != "index.html"
    }


def test_national_set_is_real_first_partitioned_and_keeps_alphanumeric_codes(national):
    from analysis.national.build import read_partitioned

    processed, _, _ = national
    root = processed / "nederland"
    # one sorted file, one row group per municipality (NL00 its own), nothing else
    import pyarrow.parquet as pq

    store = pq.ParquetFile(root / "indicators.parquet")
    col = store.schema_arrow.get_field_index("gemeente")
    groups = [store.metadata.row_group(i).column(col).statistics for i in range(store.num_row_groups)]
    assert all(g.min == g.max for g in groups)
    names = [g.min for g in groups]
    assert names == sorted(set(names)) and "GM0363" in names and "NL00" in names
    assert not (root / "indicators").exists()
    ind = read_partitioned(root / "indicators", ["GM0363", "NL00"])
    assert set(ind["region_code"].str[:6].str.replace("WK", "GM")) == {"GM0363", "NL00"}
    with gzip.open(RAW / "snapshot" / "national" / "kwb_2024_gemeente_wijk_nl.csv.gz", "rt") as fh:
        kwb = {r["code"]: r for r in csv.DictReader(fh)}
    row = ind[(ind["region_code"] == "WK0363AA") & (ind["indicator"] == "inwoners") & (ind["year"] == 2024)]
    assert len(row) == 1 and row["origin"].item() == "snapshot" and row["source_table"].item() == "85984NED"
    assert row["value"].item() == float(kwb["WK0363AA"]["AantalInwoners_5"])
    # NL00 inwoners 2024 = the sum of the 342 real gemeente figures
    nl = ind[(ind["region_code"] == "NL00") & (ind["indicator"] == "inwoners") & (ind["year"] == 2024)]
    assert nl["value"].item() == sum(
        float(v["AantalInwoners_5"]) for k, v in kwb.items() if k.startswith("GM")
    )
    # what we hold no real national figure for is synthetic and says so; a series never mixes origins
    ses = ind[(ind["region_code"] == "WK0363AA") & (ind["indicator"] == "ses_woa")]
    assert (
        len(ses)
        and set(ses["origin"]) == {"synthetic"}
        and ses["source_table"].str.contains("synthetisch").all()
    )
    assert (ind.groupby(["region_code", "indicator"])["origin"].nunique() == 1).all()
    assert ind["year"].dtype.kind == "i" and list(ind.columns)[:4] == [
        "region_code",
        "level",
        "year",
        "indicator",
    ]


def test_nederland_is_the_sum_over_that_years_own_gemeenten_in_the_kwb_dbf_files(national):
    """NL00 2016/2017 = the sum over every land gemeente of that year's KWB file (390 / 389 records,
    read here from the original dbf files), not over the 2024 codes; the same as the municipal build."""
    import pyogrio

    from analysis.national.build import read_partitioned
    from analysis.processed.build import comparison_regions

    processed, _, _ = national
    nl = read_partitioned(processed / "nederland" / "indicators", ["NL00"]).set_index(["indicator", "year"])
    for year in (2016, 2017):
        dbf = RAW / "snapshot" / f"kwb_{year}_wijk" / f"gem_{year}.dbf"
        gem = pyogrio.read_dataframe(dbf, read_geometry=False)
        land = gem[gem["WATER"] != "JA"]
        for col, ind in (("AANT_INW", "inwoners"), ("AANTAL_HH", "huishoudens")):
            v = land[col]
            assert nl.loc[(ind, year), "value"] == float(v[v >= 0].sum()), (ind, year)
            assert nl.loc[(ind, year), "coverage"] == 1.0
    assert nl.loc[("inwoners", 2016), "value"] == 16_979_120  # CBS: population on 1 January 2016
    # the municipal build's Nederland is the same, row for row
    mun = comparison_regions(RAW / "snapshot", "GM0642")
    mun = mun[mun["region_code"] == "NL00"].set_index(["indicator", "year"])
    both = nl.merge(mun, left_index=True, right_index=True, suffixes=("", "_m"))
    assert len(both) >= 15
    np.testing.assert_allclose(both["value"], both["value_m"], rtol=1e-12)
    np.testing.assert_allclose(both["coverage"], both["coverage_m"], rtol=1e-12)


def test_nederland_coverage_is_computed_and_a_published_total_is_checked():
    from analysis.national.nederland import check_against_published, nederland_rows

    def row(code, ind, year, value, level="gemeente"):
        return {
            "region_code": code,
            "level": level,
            "year": year,
            "indicator": ind,
            "value": value,
            "unit": "",
            "source_table": "T",
            "origin": "cbs",
            "provisional": False,
        }

    # 2016: three gemeenten, one without a share; 2024: two gemeenten (one merged away)
    rows = pd.DataFrame(
        [
            row("GM0001", "inwoners", 2016, 100.0),
            row("GM0002", "inwoners", 2016, 300.0),
            row("GM0003", "inwoners", 2016, 600.0),
            row("GM0001", "pct_65_plus", 2016, 10.0),
            row("GM0002", "pct_65_plus", 2016, 20.0),
            row("GM0003", "pct_65_plus", 2016, None),
            row("GM0002", "inwoners", 2024, 350.0),
            row("GM0003", "inwoners", 2024, 700.0),
        ]
    ).dropna(subset=["value"])
    nl = nederland_rows(rows).set_index(["indicator", "year"])
    assert nl.loc[("inwoners", 2016), "value"] == 1000.0 and nl.loc[("inwoners", 2024), "value"] == 1050.0
    # the share without GM0003 (60% of the inhabitants) covers 40%: under the 95% gate, not written
    assert ("pct_65_plus", 2016) not in nl.index
    rows = pd.concat([rows, pd.DataFrame([row("GM0004", "inwoners", 2016, 5.0)])], ignore_index=True)
    rows = pd.concat([rows, pd.DataFrame([row("GM0003", "pct_65_plus", 2016, 30.0)])], ignore_index=True)
    nl = nederland_rows(rows).set_index(["indicator", "year"])
    cov = nl.loc[("pct_65_plus", 2016), "coverage"]
    assert cov == pytest.approx(1000 / 1005) and cov < 1
    assert nl.loc[("pct_65_plus", 2016), "value"] == pytest.approx((1000 + 6000 + 18000) / 1000)
    # one gemeente's figure of a later year: not Nederland (its coverage of the year's gemeenten is low)
    from analysis.national.nederland import classification

    later = pd.DataFrame([row("GM0003", "inwoners", 2025, 720.0)])
    assert len(nederland_rows(later)) == 1  # without the classification it would pass for Nederland
    assert nederland_rows(later, classification(rows)).empty
    assert nederland_rows(later, classification(rows, later)).empty  # a partial year is no classification
    published = pd.DataFrame(
        [row("NL00", "inwoners", 2016, 1005.0, "land"), row("NL00", "inwoners", 2024, 1200.0, "land")]
    )
    checks = {c["year"]: c for c in check_against_published(nl.reset_index(), published)}
    assert checks[2016]["klopt"] and checks[2016]["som_gemeenten"] == 1005.0
    assert not checks[2024]["klopt"] and checks[2024]["verschil_relatief"] == pytest.approx(150 / 1200)


def test_grouped_resilience_pass_equals_the_per_municipality_method(national):
    """ONE grouped pass over all wijken gives, for a municipality, what score_areas gives for its
    wijken alone (same weights): the per-municipality reference is really per municipality."""
    from analysis.io import read_parquet
    from analysis.national.build import read_partitioned
    from analysis.resilience.analysis import score_areas
    from analysis.resilience.config import load_config

    processed, _, _ = national
    root = processed / "nederland"
    scores = read_parquet(root / "resilience_scores.parquet").set_index("region_code")
    regions = read_parquet(root / "regions.parquet")
    cfg = load_config()
    for gm in ("GM0363", "GM0014"):
        ind = read_partitioned(root / "indicators", [gm, "NL00"])
        w = regions[(regions["gemeente_code"] == gm) & (regions["level"] == "wijk")]
        w = w[w["inwoners"] >= 50].set_index("region_code")["inwoners"]  # settings min_inwoners
        codes = sorted(w.index)
        years = list(
            range(int(scores["year"].iloc[0]) - cfg.change_years + 1, int(scores["year"].iloc[0]) + 1)
        )
        own, _ = score_areas(ind, codes, w, cfg, years)
        own = own.set_index("region_code")
        for col in ("A_niveau_gemeente", "A_trend_gemeente", "B_niveau_nederland", "A_niveau_nederland"):
            np.testing.assert_allclose(
                scores.loc[codes, col].to_numpy(float), own.loc[codes, col].to_numpy(float), atol=1e-9
            )
        assert (scores.loc[codes, "signaal"] == own.loc[codes, "signaal"]).all()
        assert scores.loc[gm, "samenstelling"].count("wijk") >= 1


def _written_once_and_early(calls, views, n_sheets: int):
    """Each municipality's manifest and overview are written once, the first one while another
    municipality's sheets were still rendering (not in a serial pass after the last sheet)."""
    assert sorted(g for g, _ in calls) == sorted(p.gemeente for p in views), calls
    assert calls[0][1] < n_sheets, calls


def _shard_states(client) -> Counter:
    """Scheduler states of the sheet tasks it still knows (not the input and template bundles)."""

    def states(dask_scheduler):
        bundles = ("factsheets-inputs-", "factsheets-template-")
        return [
            ts.state
            for k, ts in dask_scheduler.tasks.items()
            if str(k).startswith("factsheets-") and not str(k).startswith(bundles)
        ]

    return Counter(client.run_on_scheduler(states))


def _hold_first_finish(monkeypatch, client) -> list[Counter]:
    """The first manifest.finish of the run (a municipality's manifest and overview) waits until no
    sheet task is left to run or held on a worker, and notes the scheduler's sheet task states then:
    the client must take each result off its worker while it writes, not after."""
    import time

    from analysis.factsheets import manifest

    seen, real = [], manifest.finish

    def finish(p, *a, **k):
        if not seen:
            deadline = time.monotonic() + 300  # against a hang only, never asserted on
            while time.monotonic() < deadline:
                st = _shard_states(client)
                if not {"waiting", "queued", "processing", "no-worker", "memory"} & set(st):
                    break
                time.sleep(0.2)
            seen.append(_shard_states(client))
        return real(p, *a, **k)

    monkeypatch.setattr(manifest, "finish", finish)
    return seen


@pytest.fixture(scope="module")
def fork_pool(national_pages):
    """The fork pool's sheets of ONLY: from ONE fork-pool run of one worker for both national modules
    (tests/national_fixtures.py ``national_pages``, NATIONAL_SHEETS: ONLY and Zwijndrecht's), each
    sheet in its own municipality's folder. Returns (summary, manifest.finish calls, ONLY's sheets by
    name, the run's views); the Dask tests compare their pages with these bytes (a page holds no path
    of the folder it was rendered in: test_two_runs_share_one_busy_cluster_and_workers_need_no_shared_
    paths)."""
    gms = {"GM" + c[2:6] for c in ONLY}
    ref = {
        k: v
        for k, v in national_pages.pages.items()
        if k.split("/")[0] in gms and not k.endswith("/index.html")
    }
    return national_pages.summary, national_pages.calls, ref, national_pages.views


def test_dask_sheets_are_byte_identical_to_the_fork_pool_and_have_no_map(
    national, warm, fork_pool, monkeypatch
):
    from analysis.factsheets.dask_runner import run_batch_dask

    _, _, views = national
    r, fork_calls, ref, fork_views = fork_pool
    assert r["ok"] == len(NATIONAL_SHEETS) and r["failed"] == 0
    _written_once_and_early(fork_calls, fork_views, len(NATIONAL_SHEETS))
    assert sorted(r["per_gemeente"]) == sorted(p.gemeente for p in fork_views)
    assert len(ref) == len(ONLY)
    calls, _ = spy_on_finish(monkeypatch)
    held = _hold_first_finish(monkeypatch, warm)
    for p in views:  # the Dask run must write every sheet itself
        for f in (p.outputs / "factsheets").glob("*.html"):
            if f.name != "index.html":
                f.unlink()
    res = run_batch_dask(views, only=ONLY, force=True, client=warm, progress=False)
    assert res["ok"] == len(ONLY) and res["failed"] == 0
    # while the first municipality's overview was written, every finished result was already at the
    # client: none left on a worker (where a worker loss would have it rendered again)
    assert len(held) == 1 and held[0]["memory"] == 0 and held[0]["processing"] == 0, held
    _written_once_and_early(calls, views, len(ONLY))
    new = _sheets(views)
    assert new.keys() == ref.keys()
    assert all(new[k] == ref[k] for k in ref), [k for k in ref if new[k] != ref[k]]
    html = new[next(k for k in new if "wk0363aa" in k)].decode()
    # there are no national polygons offline: a sheet without a map, never a crash
    assert "geen kaart beschikbaar" in html and "WK0363AA" in html
    # the national overview links every municipality's own overview; the synthetic basis is labelled
    from analysis.national.overview import write_national_index

    processed, outputs, _ = national
    index = write_national_index(
        outputs / "nederland",
        pd.read_parquet(processed / "nederland" / "regions.parquet"),
        pd.read_parquet(processed / "nederland" / "resilience_scores.parquet"),
    ).read_text()
    assert "href='GM0088/factsheets/index.html'" in index and "href='GM0363/factsheets/index.html'" in index
    # offline every input of the signal is synthetic: no signal or share as a finding, one sentence
    # on what it needs instead
    assert "veerkracht fetch --scope nederland" in index and '<html lang="nl">' in index
    assert "vraagt echte cijfers" in index and "synthetische invulling" not in index
    scores = pd.read_parquet(processed / "nederland" / "resilience_scores.parquet").set_index("region_code")
    assert scores.loc["GM0088", "alleen_synthetisch"] and pd.isna(
        scores.loc["GM0088", "aandeel_inwoners_signaal"]
    )
    for p in views:  # the overview per municipality: no map without polygons, only the sources used
        html = (p.outputs / "factsheets" / "index.html").read_text()
        assert '<svg class="kaart"' not in html and "nan" not in html.split("<table")[0]
        assert "PDOK" not in html and "85618NED" not in html  # the municipal map's and table's sources
        assert "Bronnen: inwoners CBS 85984NED;" in html  # the figures shown: KWB 2024, the newest year
    # an unchanged rerun skips every sheet (fingerprints), the manifest keeps them
    again = run_batch_dask(views, only=ONLY, client=warm, progress=False)
    assert again["ok"] == 0 and again["skipped"] >= len(ONLY)


def test_worker_killed_mid_batch_its_shard_is_retried_and_the_batch_completes(national, warm, tmp_path):
    from analysis.factsheets.dask_runner import run_batch_dask

    _, _, views = national
    marker = tmp_path / "killed"
    before = set(warm.scheduler_info()["workers"])
    res = run_batch_dask(
        views,
        only=ONLY,
        force=True,
        client=warm,
        progress=False,
        kill_area="WK0363AB",
        kill_marker=str(marker),
    )
    assert marker.exists(), "the test hook did not kill a worker"
    killed_pid = int(marker.read_text())
    assert res["ok"] == len(ONLY) and res["failed"] == 0
    for p in views:
        m = json.loads((p.outputs / "factsheets" / "manifest.json").read_text())
        assert all(
            e["status"] == "ok" and (p.outputs / "factsheets" / e["file"]).exists() for e in m["areas"]
        )
    pids = set(warm.run(lambda: __import__("os").getpid()).values())
    assert killed_pid not in pids  # that worker process is gone; a new one took its place
    assert before  # the cluster had workers before the kill
    # renders per sheet: finished results were released as they arrived, so the lost worker cost only
    # its in-flight shard; every sheet of another shard was rendered exactly once
    lines = [ln.split() for ln in (tmp_path / "killed.renders").read_text().splitlines()]
    killed_shard = {shard for _, shard, code in lines if code == "WK0363AB"}
    assert len(killed_shard) == 1
    counts = Counter(code for _, shard, code in lines if shard not in killed_shard)
    assert sorted(counts) == sorted(c for c in ONLY if c != "WK0363AB") and set(counts.values()) == {1}, lines


def test_workers_need_no_project_folder_and_a_worker_on_other_code_fails_the_run(
    national, warm, worker_root, fork_pool, tmp_path, monkeypatch
):
    """The module's worker has an EMPTY project folder (VEERKRACHT_ROOT): no config/, no snapshot. The
    configuration and snapshot files a sheet reads come with the run, so its sheets are the fork
    pool's, byte for byte (a sheet reading the worker's own files fails or differs). The code cannot
    come with the run: a worker whose code differs from the client's stops the run with ONE error
    naming the worker, and no sheet is written."""
    import shutil

    from analysis.config import Paths
    from analysis.factsheets import worker_inputs
    from analysis.factsheets.dask_runner import run_batch_dask

    gm = next(p for p in national[2] if p.gemeente == "GM0088")
    proc, out = tmp_path / "p", tmp_path / "o"
    shutil.copytree(gm.processed, proc)
    shutil.copytree(gm.outputs, out)
    for f in (out / "factsheets").glob("*.html"):
        f.unlink()
    paths = Paths(raw=gm.raw, processed=proc, outputs=out, gemeente="GM0088")
    only = ["GM0088", "WK008800"]

    def sheets() -> dict[str, bytes]:
        return {f.name: f.read_bytes() for f in (out / "factsheets").glob("*.html") if f.name != "index.html"}

    (worker,) = warm.scheduler_info()["workers"]
    assert warm.run(lambda: str(__import__("analysis.config").config.CONFIG_DIR)) == {
        worker: str(worker_root.resolve() / "config")
    }
    res = run_batch_dask([paths], only=only, force=True, client=warm, progress=False)
    assert res["ok"] == 2 and res["failed"] == 0, res
    written = sheets()
    assert written == {k.split("/", 1)[1]: v for k, v in fork_pool[2].items() if k.startswith("GM0088/")}
    assert not any(worker_root.iterdir())  # nothing was written into the worker's project folder
    monkeypatch.setattr(worker_inputs, "local_digests", lambda: {"programmacode": "andere code"})
    with pytest.raises(InputError) as err:
        run_batch_dask([paths], only=only, force=True, client=warm, progress=False)
    assert str(err.value) == (
        f"worker {worker}: de programmacode (pakket analysis of een bibliotheekversie) "
        "verschilt van die van de client"
    )
    assert sheets() == written  # the failed run wrote no sheet: the good run's pages are as they were


def test_cli_sends_the_sheets_to_an_existing_scheduler_and_refuses_a_dead_one(
    national, warm, monkeypatch, capsys, tmp_path
):
    """`--scheduler ADDRESS`: the sheets are rendered by that cluster's workers (its scheduler saw the
    tasks); an address where no scheduler listens, or a scheduler without workers, is one `fout:`
    line and exit 2 within the connect timeout, never a hang."""
    import threading

    import dask
    import distributed
    from distributed import LocalCluster

    from analysis.cli import main

    processed, outputs, _ = national
    monkeypatch.setenv("VEERKRACHT_PROCESSED", str(processed))
    monkeypatch.setenv("VEERKRACHT_OUTPUTS", str(outputs))
    address = warm.scheduler.address
    sfile = tmp_path / "scheduler.json"
    sfile.write_text(json.dumps({"type": "Scheduler", "address": address}))
    argv = ["factsheets", "--scope", "nederland", "--only", "WK008800", "--force"]
    started = []  # LocalClusters the CLI asks for: none, the sheets go to the existing scheduler

    def no_new_cluster(*a, **k):  # refused at once (a real one here would wait on the busy cores)
        started.append(k)
        raise RuntimeError("the CLI started a new LocalCluster")

    monkeypatch.setattr(distributed, "LocalCluster", no_new_cluster)
    rc = main([*argv, "--scheduler-file", str(sfile)])
    out = capsys.readouterr().out
    assert rc == 0 and "1 gemaakt" in out, out
    assert not started, "a new LocalCluster was started instead of using the scheduler's workers"
    assert f"dask: {len(warm.scheduler_info()['workers'])} workers" in out
    keys = warm.run_on_scheduler(lambda dask_scheduler: [str(t.key) for t in dask_scheduler.transition_log])
    assert any(k.startswith("factsheets-GM0088-WK008800") for k in keys)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        rc = main(
            [
                "factsheets",
                "--scope",
                "nederland",
                "--only",
                "WK008800",
                "--force",
                "--scheduler",
                "tcp://127.0.0.1:9",
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("fout: --scheduler tcp://127.0.0.1:9: geen Dask-scheduler"), err
        # a port where something else answers (a web server): bounded, one line, exit 2
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args):  # the server's own log is not the CLI's output
                pass

        web = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        threading.Thread(target=web.serve_forever, daemon=True).start()
        try:
            result = {}
            t = threading.Thread(
                target=lambda: result.update(
                    rc=main([*argv, "--scheduler", f"tcp://127.0.0.1:{web.server_address[1]}"])
                ),
                daemon=True,
            )
            t.start()
            t.join(60)
            assert not t.is_alive(), "--scheduler on a web server's port: the run hangs"
        finally:
            web.shutdown()
        err = capsys.readouterr().err
        assert result["rc"] == 2 and len(err.strip().splitlines()) == 1, err
        assert err.startswith(f"fout: --scheduler tcp://127.0.0.1:{web.server_address[1]}: "), err
        for bad, msg in (
            (tmp_path / "nope.json", "bestaat niet"),
            (tmp_path / "x.json", "geen Dask-schedulerbestand"),
        ):
            if bad.name == "x.json":
                bad.write_text("{")
            assert main([*argv, "--scheduler-file", str(bad)]) == 2
            err = capsys.readouterr().err
            assert err.startswith(f"fout: --scheduler-file {bad}") and msg in err, err
        with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
            result = {}
            t = threading.Thread(
                target=lambda: result.update(rc=main([*argv, "--scheduler", empty.scheduler_address])),
                daemon=True,
            )
            t.start()
            t.join(120)
            assert not t.is_alive(), "sheets sent to a scheduler without workers: the run hangs"
            rc = result["rc"]
        err = capsys.readouterr().err
        assert rc == 2 and "geen workers" in err, err


def test_two_runs_share_one_busy_cluster_and_workers_need_no_shared_paths(
    national, cold, fork_pool, tmp_path, monkeypatch
):
    """A second client's run on the same cluster while the first renders: both finish with 0 failed
    sheets (per-run plugins, teardown under the sheet lock). The client runs in another folder with
    RELATIVE paths, which the workers (started in the repository folder) cannot resolve: the inputs
    must travel through the scheduler and the HTML come back, byte-identical to the fork pool's."""
    import os
    import shutil
    import threading

    from distributed import Client

    from analysis.config import Paths
    from analysis.factsheets.dask_runner import run_batch_dask

    _, _, views = national
    elsewhere = tmp_path / "client"
    moved = []
    for p in views:  # a private copy: this test writes its own sheets
        proc, out = elsewhere / "p" / p.gemeente, elsewhere / "o" / p.gemeente
        shutil.copytree(p.processed, proc)
        shutil.copytree(p.outputs, out)
        moved.append(Paths(raw=p.raw, processed=proc, outputs=out, gemeente=p.gemeente))
    # the reference: the fork pool's pages of the same areas (module fixture; the pages hold no
    # path of the folder they were rendered in, so the copy elsewhere must come out the same)
    ref, _, ref_sheets, _ = fork_pool
    assert ref["failed"] == 0 and len(ref_sheets) == len(ONLY)
    for f in elsewhere.rglob("*.html"):
        if f.name != "index.html":
            f.unlink()
    monkeypatch.chdir(elsewhere)
    rel = [
        Paths(
            raw=p.raw,
            processed=Path(os.path.relpath(p.processed)),
            outputs=Path(os.path.relpath(p.outputs)),
            gemeente=p.gemeente,
        )
        for p in moved
    ]
    assert not any(p.processed.is_absolute() for p in rel)
    by_gm = {p.gemeente: p for p in rel}
    results = {}

    def second():
        with Client(cold.scheduler.address) as other:
            results["second"] = run_batch_dask(
                [by_gm["GM0363"]], only=["WK0363AA", "WK0363AB"], force=True, client=other, progress=False
            )

    t = threading.Thread(target=second)
    t.start()
    results["first"] = run_batch_dask(
        [by_gm["GM0088"]], only=["GM0088", "WK008800"], force=True, client=cold, progress=False
    )
    t.join(600)
    assert results["first"]["failed"] == 0 and results["first"]["ok"] == 2, results
    assert results["second"]["failed"] == 0 and results["second"]["ok"] == 2, results
    new = _sheets(moved)
    assert new.keys() == ref_sheets.keys()
    assert all(new[k] == ref_sheets[k] for k in new), [k for k in new if new[k] != ref_sheets[k]]
    # the workers keep a live kernel and no leftover plugin of these runs
    plugins = cold.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert not any(n.startswith("veerkracht-kernel-") for names in plugins.values() for n in names), plugins


def _kernel_pid():
    from analysis.factsheets import engine

    km = engine._KERNEL.get("km")
    return getattr(km.provisioner, "pid", None) if km is not None and km.is_alive() else None


def _count_event_loops() -> None:
    """Worker side: from now on, note the thread of every asyncio event loop made in this process."""
    import asyncio
    import threading

    real = getattr(asyncio.new_event_loop, "real", asyncio.new_event_loop)

    def counting():
        counting.made.append(threading.current_thread().name)
        return real()

    counting.real, counting.made = real, []
    asyncio.new_event_loop = counting


def _stop_counting_event_loops() -> list[str]:
    import asyncio

    made = list(getattr(asyncio.new_event_loop, "made", []))
    asyncio.new_event_loop = getattr(asyncio.new_event_loop, "real", asyncio.new_event_loop)
    return made


def _set_import_warm(code: str | None) -> str:
    """Worker side: the code a kernel plugin warms a new kernel with (None: the product's); returns
    the code set."""
    from analysis.factsheets import execution

    real = getattr(execution, "_REAL_IMPORT_WARM", execution.IMPORT_WARM)
    execution._REAL_IMPORT_WARM = real
    execution.IMPORT_WARM = real if code is None else code
    return execution.IMPORT_WARM


def _warm_error():
    from analysis.factsheets import execution

    return execution._WORKER.get("warm_error")


def test_runs_share_the_workers_kernel_and_the_last_to_leave_shuts_it_down(national, cold):
    """Per-run plugin names: a second run's plugin neither replaces nor restarts the first's kernel
    (idempotent setup); a run in between uses the same kernels; leaving runs tear down in the
    kernel thread, the kernel goes with the last; the next run starts a fresh one.

    All kernel work of a worker process runs in ONE thread, so on one asyncio event loop: a thread
    that made a second loop (each Dask task used to get its own) left the closed kernel's channels
    registered in the first loop, and the next run's warm-up on that loop missed the new kernel's
    replies and waited out its 60 s start timeout on every worker."""
    from analysis.factsheets.dask_runner import KernelPlugin, run_batch_dask
    from analysis.factsheets.worker_inputs import pack_project

    _, _, views = national
    cold.run(_count_event_loops)
    # the plugins' kernels are warmed with `pass` instead of the sheet modules' imports (~2 CPU-s a
    # kernel; c's and d's render no sheet, a's sheets import them in their own warm-up): a warm-up
    # still runs on each new kernel and must get its reply
    assert set(cold.run(_set_import_warm, "pass").values()) == {"pass"}
    try:
        # the runs' kernels read the configuration and snapshot files the runs bring (the same here)
        a, b, c = (KernelPlugin(f"test-{x}", pack_project()) for x in "abc")
        cold.register_plugin(a)
        first = cold.run(_kernel_pid)
        assert all(first.values()), first
        cold.register_plugin(b)
        assert cold.run(_kernel_pid) == first  # the same kernels: not torn down and restarted
        cold.unregister_worker_plugin(a.name)
        assert cold.run(_kernel_pid) == first  # run b still uses them
        # a run while b is registered (2 single-sheet tasks on the one worker thread: a second task
        # in that thread is what made a second event loop): the same kernels
        gm0088 = [p for p in views if p.gemeente == "GM0088"]  # its two sheets, ONLY[:2]
        res = run_batch_dask(gm0088, only=ONLY[:2], force=True, client=cold, progress=False)
        assert res["ok"] == 2 and res["failed"] == 0
        assert cold.run(_kernel_pid) == first
        cold.unregister_worker_plugin(b.name)
        assert not any(cold.run(_kernel_pid).values())  # the last run left: kernels shut down
        cold.register_plugin(c)  # the next run on these workers starts fresh kernels
        again = cold.run(_kernel_pid)
        assert all(again.values()) and not set(again.values()) & set(first.values()), (first, again)
        assert not any(cold.run(_warm_error).values())
        # a run that brings other configuration files gets a kernel started on them: a warm kernel
        # keeps the settings it read (module caches), so it is not reused for other files
        other = pack_project()
        other["files"]["config/settings.yaml"] += b"# een andere run\n"
        other["digest"] = "test-andere-run"
        d = KernelPlugin("test-d", other)
        cold.register_plugin(d)
        on_other = cold.run(_kernel_pid)
        assert all(on_other.values()) and not set(on_other.values()) & set(again.values())
        roots = cold.run(lambda: __import__("analysis.factsheets.engine").factsheets.engine._KERNEL["root"])
        assert all(r.endswith("/project/test-andere-run") for r in roots.values()), roots
        cold.unregister_worker_plugin(d.name)
        cold.unregister_worker_plugin(c.name)
    finally:
        made = cold.run(_stop_counting_event_loops)
        cold.run(_set_import_warm, None)
    for worker, threads in made.items():  # no thread of a worker made a second event loop
        assert all(n == 1 for n in Counter(threads).values()), (worker, threads)


def test_scope_and_niveau_flags(national, tmp_path, capsys):
    from analysis.cli import main
    from analysis.national.build import read_partitioned
    from analysis.national.run import check_niveau, gemeenten_in_scope, parse_scope

    processed, _, _ = national
    regions = pd.read_parquet(processed / "nederland" / "regions.parquet")
    assert parse_scope(["provincie", "pv28"]) == ("provincie", "PV28")
    assert parse_scope(["nederland"]) == ("nederland", None)
    with pytest.raises(InputError, match="--scope"):
        parse_scope(["land"])
    with pytest.raises(InputError, match="provincie"):
        parse_scope(["provincie"])
    assert check_niveau("wijk", "nederland") == ["wijk"]
    with pytest.raises(InputError, match="buurt"):
        check_niveau("buurt", "nederland")
    # a province from a gemeente -> provincie table, when one is held
    raw = tmp_path / "raw"
    (raw / "snapshot" / "national").mkdir(parents=True)
    with pytest.raises(InputError, match="gemeente_provincie.csv"):
        gemeenten_in_scope(regions, "provincie", "PV99", raw)
    (raw / "snapshot" / "national" / "gemeente_provincie.csv").write_text(
        "GM_CODE,PV_CODE\nGM0088,PV99\nGM0363,PV27\n"
    )
    assert gemeenten_in_scope(regions, "provincie", "PV99", raw) == ["GM0088"]
    assert len(gemeenten_in_scope(regions, "nederland", None, raw)) == 342
    assert len(read_partitioned(processed / "nederland" / "indicators", ["GM0088"])) > 0
    rc = main(["report", "--scope", "nederland", "--niveau", "buurt"])
    assert rc == 2 and capsys.readouterr().err.startswith("fout: --niveau buurt")


def test_bench_counts_the_cpu_of_child_processes_and_takes_the_median_run():
    import subprocess
    import sys
    import time

    from analysis.national.bench import PeakMemory, median_run

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.0: pass\ntime.sleep(30)"
    with PeakMemory(every=0.1) as mem:
        child = subprocess.Popen([sys.executable, "-c", burn])
        deadline = time.monotonic() + 300  # a bound against a hang only, never asserted on
        while time.monotonic() < deadline and mem._cpu.get(child.pid, 0.0) < 0.3:
            time.sleep(0.2)  # until the child has burnt some CPU (slow under load: no timing here)
    child.kill()
    child.wait()
    # the child's CPU counts: the total is this process's own plus every sampled child's delta (no
    # bound in seconds: under load a second of CPU can take any wall time)
    child_cpu = mem._cpu.get(child.pid, 0.0) - mem._cpu0.get(child.pid, 0.0)
    assert child_cpu >= 0.3
    others = sum(v - mem._cpu0.get(pid, 0.0) for pid, v in mem._cpu.items() if pid != child.pid)
    assert mem.cpu_seconds() == pytest.approx(mem.own_cpu + child_cpu + others)
    assert mem.cpu_seconds() >= mem.own_cpu + child_cpu
    assert mem.top(1) and mem.top(1)[0] > 0
    runs = [{"sheets_per_s": v} for v in (3.0, 1.0, 2.0)]
    assert median_run(runs) == {"sheets_per_s": 2.0, "repeats_sheets_per_s": [3.0, 1.0, 2.0]}
    assert median_run(runs[:2])["sheets_per_s"] == 1.0  # of two, the slower: a projection on the safe side


def test_dask_shards_keep_municipalities_apart_and_shrink_to_single_sheets_at_the_end():
    from types import SimpleNamespace

    from analysis.factsheets.dask_runner import shards

    plans = [
        SimpleNamespace(todo=[f"{gm}-{k}" for k in range(n)]) for gm, n in (("A", 40), ("B", 3), ("C", 30))
    ]
    out = shards(plans, n_workers=2)
    # every sheet once, in order, each task within one municipality, offsets right
    assert [a for _, chunk, _ in out for a in chunk] == [a for p in plans for a in p.todo]
    assert all(len({a.split("-")[0] for a in chunk}) == 1 for _, chunk, _ in out)
    assert all(p.todo[i : i + len(chunk)] == chunk for p, chunk, i in out)
    sizes = [len(chunk) for _, chunk, _ in out]
    assert max(sizes) == 8 and sizes[-3:] == [1, 1, 1]  # large while there is much left, then single sheets
