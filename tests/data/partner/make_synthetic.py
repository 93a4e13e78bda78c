"""Generate the SYNTHETIC example partner delivery in this folder (seeded; not real data).

    .venv/bin/python tests/data/partner/make_synthetic.py

``SYNTHETISCH_schuldhulp_2022_2023.csv`` looks like a Dutch Excel export from a partner (Windows-1252,
``;`` separator, a title-free header, codes as partners write them: some without the BU prefix, one
in lower case, one with the leading zero Excel drops; the municipality's total on the last two lines)
but every number is drawn from a seeded
Poisson model of about 12 households in debt counselling per 1,000 inhabitants. It is labelled
synthetic in its name and in the supplier of the test indicator; it never goes into data/raw.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.config import SNAPSHOT_DIR
from analysis.sources import snapshot

SEED = 20261206
OUT = Path(__file__).with_name("SYNTHETISCH_schuldhulp_2022_2023.csv")


def main() -> None:
    rng = np.random.default_rng(SEED)
    b = snapshot.read_buurten_2023(SNAPSHOT_DIR)
    b = b[(b["gemeentecode"] == "GM0642") & (b["aantalInwoners"] > 0)].sort_values("buurtcode")
    lines = ["Buurtcode;Buurtnaam;Jaar;Aantal huishoudens in schuldhulp"]
    total = {2022: 0, 2023: 0}
    for i, r in enumerate(b.itertuples()):
        code = r.buurtcode
        shown = {0: code[2:], 1: code.lower(), 2: code[3:]}.get(i % 7, code)  # as partners write them
        for year in (2022, 2023):
            n = int(rng.poisson(r.aantalInwoners * 0.012 * (1.0 if year == 2022 else 0.95)))
            cell = "<5" if (n < 5 and i % 3 == 0) else str(n)
            lines.append(f"{shown};{r.buurtnaam};{year};{cell}")
            total[year] += n
    lines += [
        f"GM0642;Zwijndrecht (hele gemeente);{y};{n}" for y, n in total.items()
    ]  # a partner's own total
    OUT.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
