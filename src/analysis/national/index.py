"""The resilience signal for every wijk in the country in ONE grouped pass.

Same method as :func:`analysis.resilience.analysis.score_areas` (same z-scores, axis scores,
classes and signal, the functions of :mod:`analysis.resilience.index` reused), but the
standardisation is a groupby over (municipality, year, indicator) instead of 342 separate runs:

* reference ``gemeente``: location and scale = the inhabitant-weighted mean and SD of the wijken of
  the same municipality in that year (buurten, when the set holds them: of its buurten);
* reference ``nederland``: location = the ``NL00`` value of that year, scale = the same SD.

The weight is ``inwoners`` 2024 (CBS 85984NED, real for every wijk); the municipal run weighs by
``huishoudens``, which the national data do not hold for every 2024 wijk. Tested equal to
``score_areas`` on one municipality with the same weights (tests/test_national.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.national.store import gemeente_of
from analysis.resilience.analysis import add_score_columns, describe_scores
from analysis.resilience.config import AXES, REFERENCES, ResilienceConfig, load_config
from analysis.resilience.index import AxisPanel


def grouped_z(ind: pd.DataFrame, weights: pd.Series, cfg: ResilienceConfig, years: list[int]) -> pd.DataFrame:
    """Long frame region_code, year, indicator, z_gemeente, z_nederland for the scored indicators."""
    dirs = {i: d for a in AXES for i, d in cfg.directions(a).items()}
    d = ind[ind["indicator"].isin(dirs) & ind["year"].isin(years) & ind["region_code"].isin(weights.index)]
    d = d[["region_code", "year", "indicator", "value"]].copy()
    d["gemeente"] = gemeente_of(d["region_code"])
    d["niveau"] = d["region_code"].str[:2]  # wijken against wijken, buurten against buurten
    d["w"] = d["region_code"].map(weights)
    d = d[d["w"].notna()]
    d["wx"] = d["w"] * d["value"]
    keys = ["niveau", "gemeente", "year", "indicator"]
    g = d.groupby(keys).agg(n=("value", "size"), ws=("w", "sum"), wxs=("wx", "sum"))
    g["mean"] = g["wxs"] / g["ws"].replace(0, np.nan)
    d = d.join(g[["n", "ws", "mean"]], on=keys)
    d["dev2"] = d["w"] * (d["value"] - d["mean"]) ** 2
    var = d.groupby(keys)["dev2"].sum() / g["ws"].replace(0, np.nan)
    sd = np.sqrt(var)
    sd = sd.where((g["n"] >= 2) & (sd > 1e-12))
    d = d.join(sd.rename("sd"), on=keys)
    nat = ind.loc[
        (ind["region_code"] == "NL00") & ind["indicator"].isin(dirs), ["year", "indicator", "value"]
    ]
    nat = nat.drop_duplicates(["year", "indicator"]).set_index(["year", "indicator"])["value"]
    d = d.join(nat.rename("nat"), on=["year", "indicator"])  # one join, not a lookup per row
    sign = d["indicator"].map(dirs).astype(float)
    d["z_gemeente"] = (d["value"] - d["mean"]) / d["sd"] * sign
    d["z_nederland"] = (d["value"] - d["nat"]) / d["sd"] * sign
    return d[["region_code", "year", "indicator", "z_gemeente", "z_nederland"]]


def _panel(
    z: pd.DataFrame, cfg: ResilienceConfig, axis: str, years: list[int], regions: list[str]
) -> AxisPanel:
    inds = list(cfg.directions(axis))
    idx = pd.MultiIndex.from_product([regions, years], names=["region_code", "year"])
    arrays = {}
    for ref in REFERENCES:
        piv = z.pivot_table(
            index=["region_code", "year"], columns="indicator", values=f"z_{ref}", dropna=False
        )
        piv = piv.reindex(index=idx, columns=inds)
        arrays[ref] = piv.to_numpy(float).reshape(len(regions), len(years), len(inds)).transpose(1, 0, 2)
    return AxisPanel(axis, np.array(years), regions, inds, cfg.weights(axis), arrays, {}, {})


def score_wijken(
    ind: pd.DataFrame,
    regions: pd.DataFrame,
    cfg: ResilienceConfig | None = None,
    min_inwoners: int = 0,
) -> pd.DataFrame:
    """Scores for every inhabited wijk and buurt (>= ``min_inwoners``; buurten only when the national
    set holds them) and a composition row per municipality (over its wijken, as before)."""
    cfg = cfg or load_config()
    areas = regions["level"].isin(["wijk", "buurt"])
    scored = regions[areas & (regions["inwoners"].fillna(0) >= max(min_inwoners, 1))]
    weights = scored.set_index("region_code")["inwoners"]
    codes = sorted(weights.index)
    rows = ind[ind["region_code"].isin(codes) & ind["indicator"].isin(cfg.scored)]
    year = cfg.ref_year if cfg.ref_year is not None else int(rows["year"].max())
    years = list(range(year - cfg.change_years + 1, year + 1))
    z = grouped_z(ind, weights, cfg, years)
    out = pd.DataFrame({"region_code": codes})
    out = add_score_columns(out, {axis: _panel(z, cfg, axis, years, codes) for axis in AXES}, cfg)

    meta = regions.set_index("region_code")
    inputs = rows[rows["year"].isin(years)]
    origins = inputs.groupby("region_code")["origin"].agg(lambda s: ",".join(sorted(set(s))))
    out["input_origins"] = out["region_code"].map(origins).fillna("")
    comp = _composition(out[out["region_code"].str.startswith("WK")], meta)
    scores = pd.concat([out, comp], ignore_index=True)
    describe_scores(scores, meta, year, years, cfg)
    scores["synthetic_inputs"] = scores["input_origins"].str.contains("synthetic")
    # every input synthetic (a wijk's own rows; a municipality's: the union over its wijken): no finding
    scores["alleen_synthetisch"] = scores["input_origins"].eq("synthetic")
    lead = ["region_code", "name", "level", "focusgebied", "inwoners", "year", "jaren"]
    return scores[lead + [c for c in scores.columns if c not in lead]]


NEEDS_REAL_DATA = (
    "het signaal vraagt echte cijfers die offline niet landelijk beschikbaar zijn; "
    "haal ze op met `veerkracht fetch --scope nederland`"
)
# the one sentence a national sheet gives instead of a signal computed from synthetic inputs alone
NEEDS_REAL_DATA_SENTENCE = (
    f"Het veerkrachtsignaal staat hier niet, want al zijn invoer is synthetisch: {NEEDS_REAL_DATA}."
)
# what a score row says about the area: blanked where every input is synthetic (:func:`findings_only`)
FINDING_COLUMNS = ("samenstelling", "n_buurten_signaal", "inwoners_signaal", "aandeel_inwoners_signaal")


def finding_columns(scores: pd.DataFrame) -> list[str]:
    """Axis levels, trends, classes, coverage, signals and reasons, and the composition figures."""
    return [c for c in scores.columns if c.startswith(("A_", "B_", "signaal")) or c in FINDING_COLUMNS]


def findings_only(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores as the sheets see them: on a row whose inputs are all synthetic
    (``alleen_synthetisch``) every finding column is empty, so no sheet, overview or download can
    show a signal, class, score or share of inhabitants computed from synthetic inputs alone. Rows with
    some real input keep everything (labelled synthetic on the sheet, as in the municipal run)."""
    if "alleen_synthetisch" not in scores.columns:
        return scores
    out = scores.copy()
    only = out["alleen_synthetisch"].fillna(False).astype(bool).to_numpy()
    for c in finding_columns(out):
        if pd.api.types.is_numeric_dtype(out[c].dtype):
            out[c] = out[c].astype(float).mask(only)
        else:
            out[c] = out[c].astype(object).mask(only, None)
    return out


def _composition(wijk_scores: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """Per municipality: how many wijken (and inhabitants) per signal class; never an average score.
    Where every input of every wijk is synthetic, no class count or share is given as a finding
    (``alleen_synthetisch``): the text says what it needs instead."""
    d = wijk_scores[["region_code", "signaal", "input_origins"]].copy()
    d["gemeente"] = gemeente_of(d["region_code"])
    d["inwoners"] = d["region_code"].map(meta["inwoners"]).fillna(0)
    rows = []
    for gm, g in d.groupby("gemeente"):
        if (g["input_origins"] == "synthetic").all():  # no real input at all: no finding to report
            rows.append(
                {
                    "region_code": gm,
                    "samenstelling": f"geen signaal voor de {len(g)} wijk(en): {NEEDS_REAL_DATA}",
                    "n_buurten_signaal": np.nan,
                    "inwoners_signaal": np.nan,
                    "aandeel_inwoners_signaal": np.nan,
                    "input_origins": "synthetic",
                    "alleen_synthetisch": True,
                }
            )
            continue
        counts = g["signaal"].value_counts()
        text = ", ".join(
            f"{int(counts[k])} wijk(en) {k}"
            for k in ("signaal", "aandacht", "geen signaal", "onvoldoende data")
            if k in counts
        )
        sig = g[g["signaal"] == "signaal"]
        total = g["inwoners"].sum()
        rows.append(
            {
                "region_code": gm,
                "samenstelling": text,
                "n_buurten_signaal": float(len(sig)),
                "inwoners_signaal": float(sig["inwoners"].sum()),
                "aandeel_inwoners_signaal": float(sig["inwoners"].sum() / total) if total > 0 else np.nan,
                "input_origins": ",".join(sorted(set(",".join(g["input_origins"]).split(",")) - {""})),
                "alleen_synthetisch": False,
            }
        )
    return pd.DataFrame(rows)
