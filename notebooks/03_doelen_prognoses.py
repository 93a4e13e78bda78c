# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (veerkracht)
#     language: python
#     name: veerkracht
# ---

# %% [markdown]
# # 03 Doelen en prognoses
#
# Alle doelstellingen van het programma staan in `config/doelen.yaml`; meetbare doelen krijgen een
# prognose met 80%/95%-intervallen, een kans dat het doel gehaald wordt en een status
# (methode: `docs/methode_prognoses.md`).

# %%
import pandas as pd

from analysis.config import default_paths
from analysis.goals.catalog import load_catalog
from analysis.goals.run import run

paths = default_paths()
goals, raw = load_catalog()
print(f"{len(goals)} doelen, waarvan {sum(g.meetbaar for g in goals)} meetbaar met de beschikbare data")
pd.DataFrame([{"id": g.id, "pijler": g.pijler, "meetbaar": g.meetbaar, "indicator": g.indicator,
               "reden/bron": g.reden and f"{g.reden} ({g.bron})"} for g in goals])

# %%
out = run(paths)
status = pd.read_parquet(out["dir"] / "status.parquet")
status.groupby(["doel_id", "status"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Kopcasus: armoede in de gemeente Zwijndrecht (echte cijfers)
#
# Doel P2-03: *In 2040 is het aantal inwoners in de focusbuurten dat leeft in armoede gedaald met 70%
# ten opzichte van 2015.* Buurtcijfers over armoede ontbreken offline; daarom de **gemeentelijke** reeks
# huishoudens (25-64 jaar) met lage welvaart 2011-2020 (Databank Zuid-Holland / Tympaan o.b.v. CBS).
# Dit is de gemeente, niet de focusbuurten. 2020 is voorlopig en heeft een methodebreuk.

# %%
from IPython.display import Image

status.query("doel_id == 'P2-03-GEM'")[["basiswaarde", "doelwaarde_berekend", "laatste_waarde",
                                        "prognose", "lo80", "hi80", "p_gehaald", "benodigd_tempo",
                                        "waargenomen_tempo", "status", "model"]]

# %%
Image(filename=str(out["dir"] / "kopcasus_armoede_gemeente.png"))

# %% [markdown]
# ## Backtest op echte reeksen van 21 en 50 Zuid-Hollandse gemeenten

# %%
pd.read_csv(out["dir"] / "backtest.csv")

# %%
pd.read_csv(out["dir"] / "kalibratie.csv")
