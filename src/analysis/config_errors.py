"""One plain Dutch line for a pydantic validation error of a configuration file.

Every YAML file under config/ is validated by a pydantic model; the first problem becomes one
``fout:`` line ``<file>: sleutel '<a.b.c>': <wat er mis is> (gevonden: <waarde>)``. The messages of
pydantic itself are English and technical, so the common error types are said here in Dutch.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError


def _known_keys(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """The keys allowed at ``loc[:-1]`` of ``model`` (for an unknown key), as far as they can be
    followed through nested models and dicts; [] when they cannot."""
    ann: Any = model
    for part in loc[:-1]:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part))
            if field is None:
                return []
            ann = field.annotation
        else:
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            origin = typing.get_origin(ann)
            if origin is dict and len(args) == 2:
                ann = args[1]
            elif len(args) == 1:
                ann = args[0]
            else:
                return []
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if not (isinstance(ann, type) and issubclass(ann, BaseModel)) and len(args) == 1:
        ann = args[0]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return list(ann.model_fields)
    return []


def _n(x: Any) -> str:
    """A bound in Dutch notation: 0.0 -> '0', 0.5 -> '0,5'."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x).replace(".", ",") if isinstance(x, float) else str(x)


def dutch(err: dict, model: type[BaseModel] | None = None) -> str:
    """What is wrong, in Dutch, for one entry of ``ValidationError.errors()``."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "extra_forbidden":
        known = _known_keys(model, tuple(err.get("loc", ())))
        return "onbekende sleutel" + (f" (bekend: {', '.join(known)})" if known else "")
    simple = {
        "missing": "ontbreekt",
        "int_parsing": "moet een geheel getal zijn",
        "int_type": "moet een geheel getal zijn",
        "int_from_float": "moet een geheel getal zijn",
        "float_parsing": "moet een getal zijn",
        "float_type": "moet een getal zijn",
        "finite_number": "moet een eindig getal zijn",
        "bool_parsing": "moet true of false zijn",
        "bool_type": "moet true of false zijn",
        "string_type": "moet tekst zijn",
        "dict_type": "moet een mapping (sleutel: waarde) zijn",
        "model_type": "moet een mapping (sleutel: waarde) zijn",
        "model_attributes_type": "moet een mapping (sleutel: waarde) zijn",
        "list_type": "moet een lijst zijn",
        "tuple_type": "moet een lijst zijn",
    }
    if kind in simple:
        return simple[kind]
    if kind == "greater_than":
        return f"moet groter zijn dan {_n(ctx.get('gt'))}"
    if kind == "greater_than_equal":
        return f"moet minstens {_n(ctx.get('ge'))} zijn"
    if kind == "less_than":
        return f"moet kleiner zijn dan {_n(ctx.get('lt'))}"
    if kind == "less_than_equal":
        return f"mag hoogstens {_n(ctx.get('le'))} zijn"
    if kind == "string_too_short":
        return (
            "mag niet leeg zijn"
            if ctx.get("min_length") == 1
            else f"te kort (minstens {ctx.get('min_length')})"
        )
    if kind == "too_short":
        return f"te weinig elementen (minstens {ctx.get('min_length')})"
    if kind == "too_long":
        return f"te veel elementen (hoogstens {ctx.get('max_length')})"
    if kind == "string_pattern_mismatch":
        return f"heeft niet de juiste vorm (patroon {ctx.get('pattern')})"
    if kind in ("literal_error", "enum"):
        return f"moet een van deze zijn: {ctx.get('expected')}"
    if kind == "value_error":
        return str(err.get("msg", "")).removeprefix("Value error, ")
    return str(err.get("msg", kind))


def where(err: dict, prefix: str = "") -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return ".".join(p for p in (prefix, loc) if p) or "(bovenste niveau)"


def message(
    path: Path | str, exc: ValidationError, model: type[BaseModel] | None = None, prefix: str = ""
) -> str:
    """``<path>: sleutel '<loc>': <Dutch reason> (gevonden: <value>)[; nog N probleem/problemen]``."""
    errs = exc.errors()
    first = errs[0]
    value = first.get("input")
    shown = (
        ""
        if first.get("type") in ("missing", "extra_forbidden") or isinstance(value, dict | list)
        else (f" (gevonden: {value!r})")
    )
    more = f"; nog {len(errs) - 1} probleem/problemen" if len(errs) > 1 else ""
    return f"{path}: sleutel '{where(first, prefix)}': {dutch(first, model)}{shown}{more}"
