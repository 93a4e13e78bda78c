"""Processed tables: harmonise, aggregate and validate; `build` writes them atomically."""
