# /// script
# requires-python = ">=3.11"
# dependencies = ["pandas>=2.2", "openpyxl>=3.1", "pyogrio>=0.9"]
# ///
"""Convert the national Leefbaarometer 2.0 (meting 2016) workbooks and the KWB 2016/2017 wijk and
gemeente attribute tables (dbf) into compact CSVs in data/raw/snapshot/national/.

Run once when the source files change (needs openpyxl, which the project itself does not install):

    uv run scripts/snapshot_national.py /work/shared/data data/raw/snapshot/national

What it keeps (see data/raw/snapshot/PROVENANCE.md, section 10):
* Leefbaarometer 2.0: the long sheets ``data(1)`` of the wijk/gemeente *stand* and *ontwikkeling*
  workbooks, and the class workbooks (KL02..KL16, VKL....). The dimension ``bewoners`` (RLBBEV /
  DLBBEV) is left out on purpose: in Leefbaarometer 2.0 it contains population composition
  including migration background, which this project does not use anywhere. The published total
  (RLBRMTR) is kept as published; it equals the sum of the five dimensions, so the total without
  ``bewoners`` is the sum of the four kept dimensions.
* KWB 2016/2017: codes, names, inhabitants, households, age groups, household types, density and
  urbanity. Migration-background fields (P_WEST_AL, P_N_W_AL, P_MAROKKO, ...) are left out.
Values are written as read; Leefbaarometer scores are rounded to 6 decimals (they are deviations
of order 0.01-0.3 from the national mean, so this keeps them to 1e-6). Integer fields are unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

LBM_DIR = "leefbaarometer_2_0_meting_2016"
LBM_SHEETS = {
    "dimensiescore_wijk_stand.xlsx": ("data(1)", "lbm2_wijk_stand.csv.gz"),
    "dimensiescore_wijk_ontwikkeling.xlsx": ("data(1)", "lbm2_wijk_ontwikkeling.csv.gz"),
    "dimensiescore_gemeente_stand.xlsx": ("data(1)", "lbm2_gemeente_stand.csv.gz"),
    "dimensiescore_gemeente_ontwikkeling.xlsx": ("data(1)", "lbm2_gemeente_ontwikkeling.csv.gz"),
    "wijk.xlsx": ("wijk", "lbm2_wijk_klassen.csv.gz"),
    "score_gemeente.xlsx": ("gemeente", "lbm2_gemeente_klassen.csv.gz"),
}
LEFT_OUT = ("RLBBEV", "DLBBEV")
KWB_COLUMNS = [
    "AANT_INW",
    "AANTAL_HH",
    "P_00_14_JR",
    "P_15_24_JR",
    "P_25_44_JR",
    "P_45_64_JR",
    "P_65_EO_JR",
    "P_EENP_HH",
    "P_HH_Z_K",
    "P_HH_M_K",
    "GEM_HH_GR",
    "BEV_DICHTH",
    "STED",
]


def convert(shared: Path, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, (sheet, target) in LBM_SHEETS.items():
        df = pd.read_excel(shared / LBM_DIR / fname, sheet_name=sheet, engine="openpyxl")
        df = df.drop(columns=[c for c in LEFT_OUT if c in df.columns])
        df.to_csv(out / target, index=False, float_format="%.6f")
        written.append(out / target)
    import pyogrio

    for year in (2016, 2017):
        folder = shared / f"cbs_wijkenbuurtkaart_{year}_attributen"
        for level, ids in (
            ("wijk", ["WK_CODE", "WK_NAAM", "GM_CODE", "GM_NAAM", "WATER"]),
            ("gem", ["GM_CODE", "GM_NAAM", "WATER"]),
        ):
            df = pyogrio.read_dataframe(folder / f"{level}_{year}.dbf", read_geometry=False)
            df = df[ids + KWB_COLUMNS]
            name = "gemeente" if level == "gem" else "wijk"
            target = out / f"kwb_{year}_{name}_nl.csv.gz"
            df.to_csv(target, index=False)
            written.append(target)
    return written


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("data/raw/snapshot/national")
    for p in convert(src, dst):
        print(p, p.stat().st_size)
