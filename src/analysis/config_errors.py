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

from analysis.errors import technisch


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
    if kind in _BOUNDS:  # a number's bound: gt, ge, lt, le
        key, text = _BOUNDS[kind]
        return text.format(_n(ctx.get(key)))
    if kind in _LENGTHS:  # a length bound of a text or a list
        key, text = _LENGTHS[kind]
        if kind == "string_too_short" and ctx.get(key) == 1:
            return "mag niet leeg zijn"
        return text.format(ctx.get(key))
    if kind == "string_pattern_mismatch":
        return f"heeft niet de juiste vorm (patroon {ctx.get('pattern')})"
    if kind in ("literal_error", "enum"):
        # pydantic joins the choices in English: "'a', 'b' or 'c'"
        choices = " of ".join(str(ctx.get("expected", "")).rsplit(" or ", 1))
        return f"moet een van deze zijn: {choices}"
    if kind == "value_error":  # our own validators, worded in Dutch
        return str(err.get("msg", "")).removeprefix("Value error, ")
    # any other check of pydantic: said in Dutch, pydantic's own English text kept as the detail
    return f"ongeldige waarde ({technisch(err.get('msg', kind))})"


_BOUNDS = {
    "greater_than": ("gt", "moet groter zijn dan {}"),
    "greater_than_equal": ("ge", "moet minstens {} zijn"),
    "less_than": ("lt", "moet kleiner zijn dan {}"),
    "less_than_equal": ("le", "mag hoogstens {} zijn"),
}
_LENGTHS = {
    "string_too_short": ("min_length", "te kort (minstens {} tekens)"),
    "string_too_long": ("max_length", "te lang (hoogstens {} tekens)"),
    "too_short": ("min_length", "te weinig elementen (minstens {})"),
    "too_long": ("max_length", "te veel elementen (hoogstens {})"),
}


def where(err: dict, prefix: str = "") -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return ".".join(p for p in (prefix, loc) if p) or "(bovenste niveau)"


def message(
    path: Path | str, exc: ValidationError, model: type[BaseModel] | None = None, prefix: str = ""
) -> str:
    """``<path>: sleutel '<loc>': <Dutch reason> (gevonden: <value>)[; nog N probleem/problemen]``."""
    # an unknown key first: a misspelt key also makes its correct name 'missing'
    errs = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
    first = errs[0]
    value = first.get("input")
    shown = (
        ""
        if first.get("type") in ("missing", "extra_forbidden") or isinstance(value, dict | list)
        else (f" (gevonden: {value!r})")
    )
    more = f"; nog {len(errs) - 1} probleem/problemen" if len(errs) > 1 else ""
    return f"{path}: sleutel '{where(first, prefix)}': {dutch(first, model)}{shown}{more}"
