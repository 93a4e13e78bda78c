"""National scope: every municipality (and its wijken) in one run (issue 13).

* :mod:`analysis.national.build`: one processed set for the whole country from the real all-NL data
  we bundle, Parquet partitioned by year and municipality, plus the labelled synthetic fill, and a
  small per-municipality view of it that the fact-sheet engine reads;
* :mod:`analysis.national.index`: the resilience signal for all wijken in ONE grouped pass (per
  municipality reference and the national reference);
* :mod:`analysis.national.overview`: the national overview page.
"""
