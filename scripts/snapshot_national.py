# /// script
# requires-python = ">=3.11"
# dependencies = ["pandas>=2.2", "openpyxl>=3.1", "pyogrio>=0.9"]
# ///
"""Convert the national Leefbaarometer 2.0 (meting 2016) workbooks, the KWB 2016/2017 wijk and
gemeente attribute tables (dbf) and the KWB 2024 all-NL OData extract (85984NED, 8 topics) into
compact CSVs in data/raw/snapshot/national/.

Run once when the source files change (needs openpyxl, which the project itself does not install):

    uv run scripts/snapshot_national.py /work/shared/data data/raw/snapshot/national
    uv run scripts/snapshot_national.py /work/shared/data data/raw/snapshot/national --only kwb2024

``--only lbm2|kwb1617|kwb2024`` rewrites one group. The KWB 2024 file is written with a fixed gzip
time stamp (mtime 0), so the same input gives the same bytes and the sha256 in PROVENANCE.md §10 holds.

What it keeps (see data/raw/snapshot/PROVENANCE.md, section 10):
* Leefbaarometer 2.0: the long sheets ``data(1)`` of the wijk/gemeente *stand* and *ontwikkeling*
  workbooks, and the class workbooks (KL02..KL16, VKL....). The dimension ``bewoners`` (RLBBEV /
  DLBBEV) is left out on purpose: in Leefbaarometer 2.0 it contains population composition
  including migration background, which this project does not use anywhere. The published total
  (RLBRMTR) is kept as published; it equals the sum of the five dimensions, so the total without
  ``bewoners`` is the sum of the four kept dimensions.
* KWB 2016/2017: codes, names, inhabitants, households, age groups, household types, density and
  urbanity. Migration-background fields (P_WEST_AL, P_N_W_AL, P_MAROKKO, ...) are left out.
* KWB 2024 (85984NED): every region of ``stripped_filtered_data_2024.json`` (342 gemeenten, 3393
  wijken; no buurten, no NL row) with its 8 topics as published (keys with CBS's suffix, e.g.
  ``AantalInwoners_5``); ``null`` stays empty. Nothing is left out.
Values are written as read; Leefbaarometer scores are rounded to 6 decimals (they are deviations
of order 0.01-0.3 from the national mean, so this keeps them to 1e-6). Integer fields are unchanged.
"""

from __future__ import annotations

import json
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


KWB2024_DIR = "cbs_kwb_2024_85984NED_odata"
KWB2024_SOURCE = "stripped_filtered_data_2024.json"
KWB2024_TARGET = "kwb_2024_gemeente_wijk_nl.csv.gz"
KWB2024_TOPICS = [
    "AantalInwoners_5",
    "Mannen_6",
    "Vrouwen_7",
    "Bevolkingsdichtheid_34",
    "Woningvoorraad_35",
    "OppervlakteTotaal_122",
    "OppervlakteLand_123",
    "OppervlakteWater_124",
]
GROUPS = ("lbm2", "kwb1617", "kwb2024")


def convert_kwb2024(shared: Path, out: Path) -> Path:
    """KWB 2024 all-NL extract (a JSON object keyed by region code) -> one CSV row per region."""
    data = json.loads((shared / KWB2024_DIR / KWB2024_SOURCE).read_text(encoding="utf-8"))
    df = pd.DataFrame.from_dict(data, orient="index").rename_axis("code").reset_index()
    missing = [c for c in KWB2024_TOPICS if c not in df.columns]
    if missing:
        raise SystemExit(f"fout: {KWB2024_SOURCE}: expected topic(s) missing: {', '.join(missing)}")
    df = df[["code", *KWB2024_TOPICS]].sort_values("code")
    for c in KWB2024_TOPICS:  # counts and areas are whole numbers; null stays empty
        df[c] = df[c].astype("Int64")
    target = out / KWB2024_TARGET
    df.to_csv(target, index=False, compression={"method": "gzip", "mtime": 0})
    return target


def convert(shared: Path, out: Path, only: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if only == "kwb2024":
        return [convert_kwb2024(shared, out)]
    for fname, (sheet, target) in LBM_SHEETS.items():
        if only not in (None, "lbm2"):
            break
        df = pd.read_excel(shared / LBM_DIR / fname, sheet_name=sheet, engine="openpyxl")
        df = df.drop(columns=[c for c in LEFT_OUT if c in df.columns])
        df.to_csv(out / target, index=False, float_format="%.6f")
        written.append(out / target)
    import pyogrio

    for year in (2016, 2017) if only in (None, "kwb1617") else ():
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
    if only is None:
        written.append(convert_kwb2024(shared, out))
    return written


if __name__ == "__main__":
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1] if i + 1 < len(args) else ""
        del args[i : i + 2]
        if only not in GROUPS:
            raise SystemExit(f"fout: --only expects one of {', '.join(GROUPS)}")
    src = Path(args[0]) if args else Path("/work/shared/data")
    dst = Path(args[1]) if len(args) > 1 else Path("data/raw/snapshot/national")
    for p in convert(src, dst, only):
        print(p, p.stat().st_size)
