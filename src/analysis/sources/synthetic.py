"""Seeded synthetic stand-in for indicators that no available real source has.

Why: the buurt-level income, poverty, bijstand, SES-WOA, Leefbaarometer 3.0 and crime figures for
Zwijndrecht could not be obtained offline (see data/raw/snapshot/PROVENANCE.md, "Not found").
So the methods can be built and tested, this module generates them over the *real* buurt list with
a known, planted structure:

* each buurt has a latent vulnerability ``v`` ~ N(0, 1);
* ``n_planted`` residential buurten, drawn at random with the seed (independent of the programme's
  focus list), get ``v + 2`` and a worsening trend of +0.06 per year;
* other buurten drift with a small random trend; each year adds noise;
* every indicator is a documented linear function of ``v`` plus noise, on a realistic scale.

Every value has origin ``synthetic``. Real values (CBS, snapshot, local) replace these whenever
present for the same region, year and indicator. Nothing here is a finding about Zwijndrecht.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.records import COLUMNS, level_of

SOURCE = "synthetisch (analysis.sources.synthetic, seed {seed})"

# indicator: (level at v=0, slope per unit v, noise sd, lower bound, upper bound)
# Signs follow the direction of each indicator: higher v is worse.
RECIPES: dict[str, tuple[float, float, float, float, float]] = {
    "ses_woa_welvaart": (0.00, -0.12, 0.03, -1.0, 1.0),
    "ses_woa_opleiding": (0.00, -0.10, 0.03, -1.0, 1.0),
    "ses_woa_arbeid": (0.00, -0.08, 0.03, -1.0, 1.0),
    "laag_inkomen_pct": (8.0, 3.2, 0.8, 0.5, 40.0),
    "sociaal_minimum_pct": (9.0, 3.8, 0.9, 0.5, 45.0),
    "bijstand_per_1000": (28.0, 16.0, 4.0, 0.0, 200.0),
    "corporatie_pct": (34.0, 14.0, 6.0, 0.0, 98.0),
    "woz": (300.0, -38.0, 12.0, 90.0, 900.0),
    "eenouder_pct": (7.0, 2.2, 0.8, 0.0, 30.0),
    "misdrijven_per_1000": (38.0, 11.0, 5.0, 2.0, 250.0),
    "lbm_fysiek": (0.00, -0.012, 0.006, -0.5, 0.5),
    "lbm_woningen": (0.00, -0.020, 0.006, -0.5, 0.5),
    "lbm_voorzieningen": (0.02, 0.004, 0.006, -0.5, 0.5),
    "lbm_veiligheid": (0.00, -0.035, 0.010, -0.5, 0.5),
    "lbm_sociaal": (0.00, -0.030, 0.008, -0.5, 0.5),
}
# Added for resilience v2 (axis A). Their noise comes from a second seeded stream, so the values of
# the indicators above stay exactly as they were.
EXTRA_RECIPES: dict[str, tuple[float, float, float, float, float]] = {
    "ao_per_1000": (55.0, 14.0, 5.0, 0.0, 250.0),
    "wmo_per_1000": (70.0, 18.0, 8.0, 0.0, 300.0),
    "jeugdzorg_pct": (10.0, 2.5, 1.0, 0.0, 40.0),
}
UNITS = {
    "ses_woa": "score",
    "ses_woa_welvaart": "score",
    "ses_woa_opleiding": "score",
    "ses_woa_arbeid": "score",
    "laag_inkomen_pct": "%",
    "sociaal_minimum_pct": "%",
    "bijstand_per_1000": "per 1000",
    "ao_per_1000": "per 1000",
    "wmo_per_1000": "per 1000",
    "jeugdzorg_pct": "%",
    "corporatie_pct": "%",
    "woz": "x 1.000 euro",
    "eenouder_pct": "%",
    "misdrijven_per_1000": "per 1000",
    "lbm_score": "score",
    "lbm_fysiek": "score",
    "lbm_woningen": "score",
    "lbm_voorzieningen": "score",
    "lbm_veiligheid": "score",
    "lbm_sociaal": "score",
}
LBM_BASE = 4.10  # national mean level of the Leefbaarometer 3.0 total (synthetic anchor)
PLANTED_SHIFT = 2.0
PLANTED_TREND = 0.06


@dataclass(frozen=True)
class SyntheticResult:
    indicators: pd.DataFrame  # long format, origin 'synthetic'
    truth: pd.DataFrame  # buurtcode, planted (bool), v0, trend


def generate(
    buurten: pd.DataFrame,
    *,
    seed: int,
    first_year: int,
    last_year: int,
    n_planted: int,
    min_inwoners: int,
    national_code: str = "NL00",
) -> SyntheticResult:
    """Generate buurt series for ``first_year..last_year`` and a national reference row.

    ``buurten`` needs columns ``buurtcode`` and ``inwoners``; only buurten with at least
    ``min_inwoners`` can be planted, and buurten without inhabitants get no values.
    """
    rng = np.random.default_rng(seed)
    rng_extra = np.random.default_rng([seed, 1])
    b = buurten[["buurtcode", "inwoners"]].sort_values("buurtcode").reset_index(drop=True)
    inhabited = b[b["inwoners"].fillna(0) > 0].reset_index(drop=True)
    residential = inhabited.index[inhabited["inwoners"] >= min_inwoners].to_numpy()
    n_planted = min(n_planted, len(residential))
    planted_idx = rng.choice(residential, size=n_planted, replace=False) if n_planted else []
    n = len(inhabited)
    v0 = rng.normal(0.0, 1.0, n)
    trend = rng.normal(0.0, 0.015, n)
    planted = np.zeros(n, dtype=bool)
    planted[planted_idx] = True
    v0[planted] += PLANTED_SHIFT
    trend[planted] += PLANTED_TREND

    years = np.arange(first_year, last_year + 1)
    rows = []
    for t_i, year in enumerate(years):
        v = v0 + trend * t_i + rng.normal(0.0, 0.15, n)
        vals: dict[str, np.ndarray] = {}
        for ind, (lvl, slope, sd, lo, hi) in RECIPES.items():
            vals[ind] = np.clip(lvl + slope * v + rng.normal(0.0, sd, n), lo, hi)
        for ind, (lvl, slope, sd, lo, hi) in EXTRA_RECIPES.items():
            vals[ind] = np.clip(lvl + slope * v + rng_extra.normal(0.0, sd, n), lo, hi)
        vals["ses_woa"] = vals["ses_woa_welvaart"] + vals["ses_woa_opleiding"] + vals["ses_woa_arbeid"]
        lbm_dims = ["lbm_fysiek", "lbm_woningen", "lbm_voorzieningen", "lbm_veiligheid", "lbm_sociaal"]
        vals["lbm_score"] = LBM_BASE + sum(vals[d] for d in lbm_dims)
        frame = pd.DataFrame(vals)
        frame["region_code"] = inhabited["buurtcode"].to_numpy()
        frame["year"] = int(year)
        rows.append(frame)
        # national reference: the indicator at v = 0 (no noise); SES-WOA and LBM deviations are 0
        nat = {ind: lvl for ind, (lvl, *_rest) in {**RECIPES, **EXTRA_RECIPES}.items()}
        nat["ses_woa"] = nat["ses_woa_welvaart"] + nat["ses_woa_opleiding"] + nat["ses_woa_arbeid"]
        nat["lbm_score"] = LBM_BASE + sum(nat[d] for d in lbm_dims)
        rows.append(pd.DataFrame([{**nat, "region_code": national_code, "year": int(year)}]))
    wide = pd.concat(rows, ignore_index=True)
    long = wide.melt(id_vars=["region_code", "year"], var_name="indicator", value_name="value")
    long["level"] = long["region_code"].map(level_of)
    long["unit"] = long["indicator"].map(UNITS)
    long["source_table"] = SOURCE.format(seed=seed)
    long["origin"] = "synthetic"
    long["provisional"] = False
    truth = pd.DataFrame({"buurtcode": inhabited["buurtcode"], "planted": planted, "v0": v0, "trend": trend})
    return SyntheticResult(indicators=long[COLUMNS], truth=truth)
