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
# # 01 Data verkennen
#
# De verwerkte tabellen van `veerkracht build`: `data/processed/<GM>/regions.gpkg` (gemeente, wijken,
# buurten, focusgebieden) en `data/processed/<GM>/indicators.parquet` (lange vorm, met herkomst per
# waarde). **Let op:** waarden met herkomst `synthetic` zijn gegenereerd (zie
# `analysis.sources.synthetic`), geen echte cijfers.

# %%
from analysis.config import default_paths
from analysis.processed.build import build, load_indicators, load_manifest, load_regions, write

paths = default_paths()
if not paths.indicators.exists():
    write(build(paths), paths)
ind = load_indicators(paths)
regions = load_regions(paths)
manifest = load_manifest(paths)
print("Synthetische indicatoren in deze build:", ", ".join(manifest["synthetic_indicators"]))

# %% [markdown]
# ## Herkomst van de waarden per niveau

# %%
ind.groupby(["level", "origin"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Gebieden en focusgebieden

# %%
regions.drop(columns="geometry").query("level in ['gemeente', 'wijk', 'focusgebied']")

# %%
ax = regions.query("level == 'buurt'").plot(column="inwoners", legend=True, figsize=(8, 5), cmap="Blues")
regions.query("level == 'focusgebied' and region_code != 'FG00'").boundary.plot(ax=ax, color="black")
ax.set_title("Inwoners per buurt 2023 (bron: CBS 85618NED, Wijk- en buurtkaart 2023); focusgebieden omlijnd")
ax.set_axis_off()

# %% [markdown]
# ## Echte gemeentelijke armoedereeks (Databank Zuid-Holland)

# %%
ind.query("indicator == 'lage_welvaart_hh_25_64'")[["year", "value", "provisional", "source_table"]]
