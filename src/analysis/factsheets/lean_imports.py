"""The notebook stack's imports without work a sheet batch never uses."""

from __future__ import annotations

import sys

_SKIPPED = "rfc3987_syntax"


def jsonschema_without_iri_checker() -> None:
    """Import jsonschema (nbformat validates notebooks with it; papermill, nbclient and nbconvert
    import nbformat) without its checker for the JSON Schema formats 'iri' and 'iri-reference'.

    When rfc3987_syntax is installed (here it comes with jupyter-events, a JupyterLab dependency),
    importing jsonschema compiles its 38 Lark grammars: ~1.1 CPU-s in every batch process and every
    worker started ahead (``prestart_workers``). A batch never checks formats: nbformat validates
    without a format checker, and jsonschema checks formats only when given one. So jsonschema is
    imported once with rfc3987_syntax hidden (jsonschema skips a checker whose library does not
    import); rfc3987_syntax itself stays importable afterwards. No-op once either is imported."""
    if "jsonschema" in sys.modules or _SKIPPED in sys.modules:
        return
    sys.modules[_SKIPPED] = None  # type: ignore[assignment]  # `import` of it raises ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules[_SKIPPED]
