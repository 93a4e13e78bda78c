"""Resilience v2: two axes (A: concentration of low self-reliance, B: outcome), each with a level
and a change against the municipal and the national reference; the combined signal, aggregates as
composition, sensitivity with P(signaal) and robustness; Zwijndrecht's wijken in the national
distribution on real Leefbaarometer 2.0 and KWB data."""
