"""Data sources: live CBS (cbs), the committed snapshot (snapshot), local files (local) and the
documented synthetic stand-in (synthetic)."""
