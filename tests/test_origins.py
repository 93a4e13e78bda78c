"""Origin pinned per source reader, and no real row lost in the build (issue 23, item 5).

A real row that a reader mislabels as synthetic is not a cosmetic error: the build lets a synthetic
stand-in replace it, so real figures silently disappear. Each reader here must label every row
``snapshot``, and every real row of the municipality must come out of the build with a real origin
and its value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.sources import snapshot

READERS = {
    "kwb_2024_indicators": lambda snap: snapshot.kwb_2024_indicators(snap),
    "kwb_wijk_indicators": lambda snap: snapshot.kwb_wijk_indicators(snap),
    "leefbaarometer2_indicators": lambda snap: snapshot.leefbaarometer2_indicators(snap),
    "kwb_2025_wijkwarm_indicators": lambda snap: snapshot.kwb_2025_wijkwarm_indicators(snap),
    "poverty_indicators": lambda snap: snapshot.poverty_indicators(snap, "GM0642"),
}
KEY = ["region_code", "indicator", "year"]


@pytest.mark.parametrize("reader", sorted(READERS))
def test_every_row_of_a_real_source_reader_is_labelled_real(reader):
    from analysis.config import SNAPSHOT_DIR

    rows = READERS[reader](SNAPSHOT_DIR)
    assert len(rows) > 0
    assert set(rows["origin"]) == {"snapshot"}, rows["origin"].value_counts().to_dict()


@pytest.mark.parametrize("reader", sorted(READERS))
def test_no_real_row_lost_after_build(reader, built):
    from analysis.processed.build import load_indicators, load_regions

    paths, _ = built
    rows = READERS[reader](paths.snapshot).dropna(subset=["value"])
    known = set(load_regions(paths)["region_code"]) | {"NL00"}
    rows = rows[rows["region_code"].isin(known)]
    assert len(rows) > 0
    ind = load_indicators(paths)
    got = rows[KEY + ["value"]].merge(ind[KEY + ["value", "origin"]], on=KEY, how="left", suffixes=("", "_b"))
    lost = got[got["origin"].isna() | (got["origin"] == "synthetic")]
    assert lost.empty, (
        f"{len(lost)} real rows lost or replaced by synthetic, e.g. {lost.head(3).to_dict('records')}"
    )
    assert np.allclose(got["value"], got["value_b"], rtol=1e-9, equal_nan=True)
    assert pd.Series(got["origin"]).ne("synthetic").all()
