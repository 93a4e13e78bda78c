"""Simulated hold-out like issue 23's: trending yearly series 2014-2020, every origin with >= 4 years,
forecast through ``analysis.goals.forecast_series`` (the real panel calibration); coverage per horizon.

Run: ``.venv/bin/python scripts/holdout_simulatie.py`` (about a minute). Table in docs/methode_prognoses.md.
"""

import numpy as np
import pandas as pd

from analysis.goals import forecast_series
from analysis.goals.series import default_evidence

KINDS = ("rw", "lin", "curv")  # random walk with drift, linear trend + noise, accelerating trend
RATIOS = (0.5, 1, 2, 4, 8)  # trend / noise
N_SERIES = 40  # per kind and ratio


def one(rng, kind: str, r: float) -> pd.Series:
    t = np.arange(7)
    if kind == "rw":
        y = 1000 + np.cumsum(r * 10 + 10 * rng.standard_normal(7))
    elif kind == "lin":
        y = 1000 + r * 10 * t + 10 * rng.standard_normal(7)
    else:
        y = 1000 + r * 10 * t + r * t**2 + 10 * rng.standard_normal(7)
    return pd.Series(y, index=range(2014, 2021))


def main() -> pd.DataFrame:
    ev = default_evidence()
    rng = np.random.default_rng(2023)
    res = []
    for kind in KINDS:
        for r in RATIOS:
            for _ in range(N_SERIES):
                s = one(rng, kind, r)
                for k in (4, 5, 6):
                    fc = forecast_series(s.iloc[:k], 2020, evidence=ev)
                    for yr, row in fc.iterrows():
                        a = s[yr]
                        h = yr - s.index[k - 1]
                        res.append((kind, r, h, row.lo80 <= a <= row.hi80, row.lo95 <= a <= row.hi95))
    df = pd.DataFrame(res, columns=["kind", "r", "h", "hit80", "hit95"])
    return df.groupby(["kind", "r", "h"])[["hit80", "hit95"]].mean().unstack("h").round(2)


if __name__ == "__main__":
    print(main().to_string())
