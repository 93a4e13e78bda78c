"""Command-line numbers checked like their twins in the configuration, and argparse's own errors as
one Dutch ``fout:`` line.

Every numeric option of ``veerkracht`` has a rule here; an option with a twin in a configuration
file (``--timeout`` and ``factsheets.timeout_s``, ``--budget`` and ``cbs.budget_s``, ``--n-sim`` and
``sensitivity.n_sim``) uses the twin's own pydantic field, so both accept exactly the same values
(finite, in range). A numeric option without a rule here fails a test (and is checked finite).
"""

from __future__ import annotations

import argparse
import math
from typing import Annotated, Any

from analysis.errors import InputError


def _twin(dest: str) -> tuple[Any, str] | None:
    """(pydantic field, where the twin lives) of an option with a configuration twin, else None;
    only that twin's model is loaded (``--workers`` does not load the resilience configuration)."""
    if dest == "n_sim":
        from analysis.resilience.config import SensitivitySpec

        return SensitivitySpec.model_fields["n_sim"], "sensitivity.n_sim in config/resilience.yaml"
    if dest not in TWINS:
        return None
    from analysis import config_models

    model, key, where = TWINS[dest]
    return getattr(config_models, model).model_fields[key], where


# option dest -> (model in analysis.config_models, field, where its twin lives); n_sim: see _twin
TWINS = {
    "jaren": ("Jaren", "eerste", "jaren.eerste/laatste in config/settings.yaml"),
    "timeout": ("Factsheets", "timeout_s", "factsheets.timeout_s in config/settings.yaml"),
    "budget": ("CbsSection", "budget_s", "cbs.budget_s in config/settings.yaml"),
}


# options without a configuration twin: their own range (pydantic.Field keywords)
OWN_RULES: dict[str, dict[str, int]] = {
    "workers": {"ge": 1, "le": 512},
    "n_areas": {"ge": 0},  # 0 = all areas
    "n": {"ge": 1},
    "repeat": {"ge": 1, "le": 100},
}


def _numeric_actions(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _numeric_actions(sub)
        elif action.type in (int, float):
            yield action


def check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every numeric option given on the command line within its range; else one InputError."""
    given = [a for a in _numeric_actions(parser) if getattr(args, a.dest, None) is not None]
    if not given:  # pydantic and the twins are loaded only when a number was given
        return
    from pydantic import Field, TypeAdapter, ValidationError
    from pydantic.types import AllowInfNan

    from analysis.config_errors import dutch

    for action in given:
        value = getattr(args, action.dest)
        twin_of = _twin(action.dest)
        if twin_of is not None:
            field, twin = twin_of
            metadata = field.metadata
        else:  # no rule (tests/test_bad_input.py asserts there is one): at least a finite number
            twin, metadata = None, Field(**OWN_RULES.get(action.dest, {})).metadata
        adapter = TypeAdapter(Annotated[action.type, *metadata, AllowInfNan(False)])
        for v in value if isinstance(value, list) else [value]:  # nargs: every value
            try:
                adapter.validate_python(v)
            except ValidationError as exc:
                name = "/".join(action.option_strings)
                shown = f"{v:g}" if isinstance(v, float) and not math.isnan(v) else str(v)
                same = f" (net als {twin})" if twin else ""
                raise InputError(f"{name} {shown}: {dutch(exc.errors()[0])}{same}") from None


def unchecked_options(parser: argparse.ArgumentParser) -> list[str]:
    """Numeric options without a range rule here (should be none)."""
    known = set(OWN_RULES) | set(TWINS) | {"n_sim"}
    return sorted({a.option_strings[0] for a in _numeric_actions(parser) if a.dest not in known})


# argparse's own (English) messages, said in Dutch: (regular expression, replacement), applied in order
ARGPARSE_NL = (
    (r"invalid int value: ", "geen geheel getal: "),
    (r"invalid float value: ", "geen getal: "),
    (r"invalid (\S+) value: ", r"ongeldige waarde (\1): "),
    (r"invalid choice: (.*) \(choose from (.*)\)$", r"ongeldige keuze: \1 (kies uit \2)"),
    (r"expected one argument", "verwacht een waarde"),
    (r"expected at least one argument", "verwacht minstens een waarde"),
    (r"expected at most one argument", "verwacht hoogstens een waarde"),
    (r"expected (\d+) arguments?", r"verwacht \1 waarden"),
    (r"unrecognized arguments: ", "onbekende argumenten: "),
    (r"the following arguments are required: ", "deze argumenten ontbreken: "),
    (r"one of the arguments (.*) is required", r"een van de argumenten \1 is verplicht"),
    (r"not allowed with argument ", "niet toegestaan samen met "),
    (r"ignored explicit argument ", "genegeerd expliciet argument "),
    (r"ambiguous option: (\S+) could match ", r"dubbelzinnige optie: \1 kan passen bij "),
    (r"^argument ", "optie "),
)


class DutchHelp(argparse.HelpFormatter):
    """Help text with a Dutch usage line (the section titles are set by DutchParser)."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[override]
        super().add_usage(usage, actions, groups, "gebruik: " if prefix is None else prefix)


class DutchParser(argparse.ArgumentParser):
    """argparse in Dutch: errors as one ``fout:`` line (exit 2), help with Dutch headings and -h."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DutchHelp)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "argumenten"
        self._optionals.title = "opties"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="toon deze hulp en stop")

    def error(self, message: str):  # type: ignore[override]
        import re

        message = " ".join(message.split())
        for en, nl in ARGPARSE_NL:
            message = re.sub(en, nl, message)
        self.exit(2, f"fout: {self.prog}: {message}\n")
