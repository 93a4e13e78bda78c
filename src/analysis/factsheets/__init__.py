"""Fact sheets: one HTML page per area, executed with papermill from notebooks/factsheet.ipynb."""
