"""Data contracts at the stage boundary. They raise; they never only warn."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.config import indicator_catalog
from analysis.errors import InputError, technisch
from analysis.processed.aggregate import MIN_COVERAGE
from analysis.records import LEVELS, ORIGINS

# wijk/buurt codes: municipality number + digits, or letters in CBS's newer alphanumeric codes (BU0363AA01)
# NL00 Nederland, DS00 Drechtsteden (analysis.config.REGIO_NAMEN), FGxx focus areas
CODE_PATTERN = r"^(NL00|DS00|GM\d{4}|WK\d{4}[0-9A-Z]{2}|BU\d{4}[0-9A-Z]{4}|FG\d{2})$"


def indicators_schema(*, built: bool = False) -> pa.DataFrameSchema:
    """The long indicator table. ``built=True``: the table the build writes, which must carry
    ``coverage`` (NaN for a figure published for the area itself; for an aggregate the share of the
    parts' weight behind it, never below the coverage gate). Source frames need not carry it."""
    return pa.DataFrameSchema(
        {
            "region_code": pa.Column(str, pa.Check.str_matches(CODE_PATTERN)),
            "level": pa.Column(str, pa.Check.isin(LEVELS)),
            "year": pa.Column(int, pa.Check.in_range(2000, 2100)),
            "indicator": pa.Column(str, pa.Check.isin(list(indicator_catalog()))),
            "value": pa.Column(float, nullable=False),
            "unit": pa.Column(str),
            "source_table": pa.Column(str, pa.Check.str_length(min_value=1)),
            "origin": pa.Column(str, pa.Check.isin(ORIGINS)),
            "provisional": pa.Column(bool),
            "coverage": pa.Column(
                float,
                pa.Check.in_range(MIN_COVERAGE - 1e-9, 1.0),
                nullable=True,
                required=built,
            ),
        },
        strict=True,
        coerce=True,
        name="indicators",
        metadata={"unique": ["region_code", "year", "indicator"]},
    )


def regions_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "region_code": pa.Column(str, pa.Check.str_matches(CODE_PATTERN), unique=True),
            "level": pa.Column(str, pa.Check.isin(LEVELS)),
            "name": pa.Column(str, pa.Check.str_length(min_value=1)),
            "parent_code": pa.Column(str, nullable=True),
            "wijk_code": pa.Column(str, nullable=True),
            "focusgebied": pa.Column(str, nullable=True),
            "inwoners": pa.Column(float, nullable=True),
            "mapping": pa.Column(str, nullable=True),
        },
        strict=False,
        coerce=True,
        name="regions",
    )


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, what: str) -> pd.DataFrame:
    """Validate lazily and raise one InputError that lists the failed checks."""
    # Uniqueness is checked here: pandera's lazy report of duplicate keys fails on pandas 3.
    keys = (schema.metadata or {}).get("unique")
    if keys:
        dup = df.duplicated(keys, keep=False)
        if dup.any():
            first = df.loc[dup, keys].iloc[0].to_dict()
            raise InputError(f"{what}: dubbele rijen voor {keys}, bijvoorbeeld {first}")
    try:
        return schema.validate(df, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        cases = getattr(exc, "failure_cases", None)
        if cases is not None and len(cases):
            first = cases.head(5)[["column", "check", "failure_case"]].to_dict("records")
            detail = "; ".join(f"kolom {c['column']}: {c['check']} ({c['failure_case']})" for c in first)
        else:
            detail = technisch(str(exc).splitlines()[0])
        raise InputError(f"{what}: schemacontrole mislukt: {detail}") from exc
