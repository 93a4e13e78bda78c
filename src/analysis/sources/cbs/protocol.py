"""OData v3 documents of a CBS table: dimensions and topics from DataProperties, the registry's
topic and category rules resolved against them, and the harmonisation into the long format."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

from analysis.errors import InputError
from analysis.records import COLUMNS, to_long

_SUFFIX = re.compile(r"_\d+$")
_PROVISIONAL = re.compile(r"betreft\s+(nader\s+)?voorlopige\s+cijfers", re.IGNORECASE)
MISSING_SYMBOLS = {".", "x", "-", "", "?"}
DATA_PART = "TypedDataSet"
META_PARTS = ("TableInfos", "DataProperties", "CategoryGroups")
DIM_TYPES = {"Dimension", "TimeDimension", "GeoDimension", "GeoDetail"}
# KWB tables code Nederland as NL00, CBS's regional (RegioS) tables such as 85678NED as NL01: both are
# asked for and NL01 is stored as NL00, the project's code for the national row.
NATIONAL_ALIASES = {"NL01": "NL00"}


def base_key(key: str) -> str:
    """DataProperties key without its numeric suffix: ``HuishoudensMetEenLaagInkomen_89`` -> ``…Inkomen``."""
    return _SUFFIX.sub("", key)


# --- metadata: dimensions and topics ------------------------------------------------------------


def _dims(raw: dict[str, Any]) -> dict[str, str]:
    """Dimension key -> type from DataProperties."""
    return {
        p["Key"]: p["Type"]
        for p in raw.get("DataProperties", [])
        if p.get("Type") in DIM_TYPES and p.get("Key")
    }


def region_dim_of(raw: dict[str, Any], spec: dict[str, Any]) -> str:
    geo = [k for k, t in _dims(raw).items() if t in ("GeoDimension", "GeoDetail")]
    if len(geo) > 1:
        raise InputError(f"meer dan een gebiedsdimensie in de DataProperties: {geo}")
    return geo[0] if geo else spec.get("region_dim", "WijkenEnBuurten")


def period_dim_of(raw: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """The TimeDimension from DataProperties; without metadata the registry's ``period_dim``."""
    dims = _dims(raw)
    if not dims:
        return spec.get("period_dim")
    time_dims = [k for k, t in dims.items() if t == "TimeDimension"]
    return time_dims[0] if time_dims else None


def extra_dims_of(raw: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    dims = _dims(raw)
    if dims:
        return [k for k, t in dims.items() if t == "Dimension"]
    return list(spec.get("select") or {})


def resolve_select(raw: dict[str, Any], table_id: str, spec: dict[str, Any]) -> dict[str, str]:
    """Extra dimension -> exact category key (padding kept), resolved by key or by title.

    ``select`` in the registry gives per dimension either a key (``"0.0.0"``; padding need not be
    written) or ``{title: "..."}``. Every extra dimension of the table needs a selection.
    """
    select = spec.get("select") or {}
    out: dict[str, str] = {}
    margins = (spec.get("margins") or {}).get("dim")
    for dim in extra_dims_of(raw, spec):
        if dim not in select and dim != margins:
            raise InputError(
                f"CBS-tabel {table_id}: dimensie '{dim}' vraagt een keuze onder 'select' in "
                "config/cbs_tables.yaml"
            )
    for dim, want in select.items():
        cats = raw.get(dim)
        by_title = isinstance(want, dict) and "title" in want
        if cats is None:
            if by_title:
                raise InputError(
                    f"CBS-tabel {table_id}: dimensie '{dim}' ontbreekt; een titel is niet op te zoeken"
                )
            out[dim] = str(want.get("key") if isinstance(want, dict) else want)
            continue
        if by_title:
            title = str(want["title"]).strip().casefold()
            hits = [c["Key"] for c in cats if str(c.get("Title", "")).strip().casefold() == title]
            if len(hits) != 1:
                avail = "; ".join(str(c.get("Title")) for c in cats[:12])
                raise InputError(
                    f"CBS-tabel {table_id}: dimensie '{dim}' heeft {len(hits)} categorieën met titel "
                    f"'{want['title']}' (beschikbaar: {avail})"
                )
        else:
            key = str(want.get("key") if isinstance(want, dict) else want).strip()
            hits = [c["Key"] for c in cats if str(c["Key"]).strip() == key]
            if len(hits) != 1:
                raise InputError(
                    f"CBS-tabel {table_id}: dimensie '{dim}' heeft geen categorie met sleutel '{key}'"
                )
        out[dim] = hits[0]
    return out


def title_norm(title: str) -> str:
    """A TopicGroup title compared as published titles vary: accents, case, spacing and a leading
    "Deelscore" do not count ("Deelscore financiële welvaart" == "Financiele welvaart")."""
    plain = unicodedata.normalize("NFKD", str(title)).encode("ascii", "ignore").decode()
    plain = " ".join(plain.casefold().split())
    return plain.removeprefix("deelscore ").strip()


def _topics(raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(topic key, TopicGroup title path) for every Topic; from the data columns when no metadata."""
    props = raw.get("DataProperties") or []
    if not props:
        rows = _dataset(raw, "?") if any(n in raw for n in ("TypedDataSet", "UntypedDataSet")) else []
        return [(k, []) for k in (rows[0] if rows else {}) if k != "ID"]
    by_id = {p.get("ID"): p for p in props}

    def path(p: dict[str, Any]) -> list[str]:
        out, parent = [], p.get("ParentID")
        while parent is not None and parent in by_id:
            out.append(str(by_id[parent].get("Title", "")))
            parent = by_id[parent].get("ParentID")
        return out[::-1]

    return [(p["Key"], path(p)) for p in props if p.get("Type") == "Topic" and p.get("Key")]


def resolve_topics(
    raw: dict[str, Any], table_id: str, spec: dict[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """Indicator -> full DataProperties key for this edition, and the indicators absent from it.

    An indicator is found by (in this order) a full key given for this edition under
    ``editions_keys``, or its ``keys`` (full keys like ``GemiddeldeScore_29`` match exactly, names
    without suffix match ``Name_<n>``), optionally only inside a TopicGroup whose title is ``group`` (or
    one of a list of titles), compared with :func:`title_norm`.
    Two topics for one indicator, or one topic for two indicators, is an error.
    """
    topics = _topics(raw)
    keys = {k for k, _ in topics}
    per_edition = (spec.get("editions_keys") or {}).get(table_id, {})
    found: dict[str, str] = {}
    absent: list[str] = []
    for ind, rule in spec["indicators"].items():
        rule = rule if isinstance(rule, dict) else {"keys": [rule]}
        if ind in per_edition:
            full = per_edition[ind]
            if full not in keys:
                raise InputError(f"CBS-tabel {table_id}: verwachte kolom '{full}' ontbreekt (voor {ind})")
            found[ind] = full
            continue
        names = rule.get("keys", [])
        group = rule.get("group")
        groups = (
            None if group is None else {title_norm(g) for g in ([group] if isinstance(group, str) else group)}
        )
        hits = [
            k
            for k, path in topics
            if any((k == n) if _SUFFIX.search(n) else (base_key(k) == n) for n in names)
            and (groups is None or any(title_norm(t) in groups for t in path))
        ]
        if len(hits) > 1:
            raise InputError(
                f"CBS-tabel {table_id}: indicator '{ind}' past bij meerdere kolommen {hits}; "
                "geef de volledige sleutel per editie ('editions_keys') of een TopicGroup ('group') in "
                "config/cbs_tables.yaml"
            )
        if hits:
            found[ind] = hits[0]
        else:
            absent.append(ind)
    dup = pd.Series(found).duplicated(keep=False)
    if dup.any():
        raise InputError(
            f"CBS-tabel {table_id}: een kolom voor meerdere indicatoren: "
            f"{sorted(pd.Series(found)[dup].index)}"
        )
    for ind in spec.get("required", []):
        if ind not in found:
            rule = spec["indicators"][ind]
            names = rule.get("keys", [ind]) if isinstance(rule, dict) else [rule]
            raise InputError(f"CBS-tabel {table_id}: verwachte kolom '{names[0]}_*' ontbreekt ({ind})")
    return found, absent


# --- harmonisation -----------------------------------------------------------------------------


def _dataset(raw: dict[str, Any], table_id: str) -> list[dict[str, Any]]:
    for name in ("TypedDataSet", "UntypedDataSet"):
        if name in raw:
            return raw[name]
    raise InputError(f"CBS-tabel {table_id}: antwoord zonder TypedDataSet/UntypedDataSet")


def provisional_keys(raw: dict[str, Any]) -> set[str]:
    """Full keys whose DataProperties description says the figures are provisional."""
    return {
        p["Key"]
        for p in raw.get("DataProperties", [])
        if p.get("Key") and _PROVISIONAL.search(p.get("Description") or "")
    }


def harmonise(
    raw: dict[str, Any], table_id: str, spec: dict[str, Any], year: int | None = None
) -> pd.DataFrame:
    """Turn one downloaded table into the long format.

    Region codes are stripped of CBS's padding, missing-value symbols become NaN, topics are mapped
    per edition (see ``resolve_topics``), extra dimensions are narrowed to their selected category,
    and a required column that is absent is a clear error.
    """
    rows = _dataset(raw, table_id)
    if not rows:
        raise InputError(f"CBS-tabel {table_id}: leeg antwoord voor de gevraagde gebieden")
    df = pd.DataFrame(rows)
    region_dim = region_dim_of(raw, spec)
    if region_dim not in df.columns:
        raise InputError(f"CBS-tabel {table_id}: verwachte kolom '{region_dim}' ontbreekt")
    df[region_dim] = df[region_dim].astype(str).str.strip().replace(NATIONAL_ALIASES)
    found, _ = resolve_topics(raw, table_id, spec)
    for dim, code in resolve_select(raw, table_id, spec).items():
        if dim not in df.columns:
            raise InputError(f"CBS-tabel {table_id}: verwachte dimensiekolom '{dim}' ontbreekt")
        df = df[df[dim].astype(str).str.strip() == str(code).strip()]
    bounds: dict[str, str] = {}
    if spec.get("margins"):
        df, bounds = spread_margins(df, raw, table_id, spec, region_dim, found)
    for ind in spec.get("required", []):  # DataProperties may list it while the rows lack it
        if found.get(ind) not in df.columns:
            raise InputError(
                f"CBS-tabel {table_id}: verplichte kolom '{found.get(ind)}' ({ind}) ontbreekt in de "
                "gegevensrijen"
            )
    mapping = {full: ind for ind, full in found.items() if full in df.columns}
    mapping |= {col: ind for col, ind in bounds.items() if col in df.columns}
    for col in mapping:
        if df[col].dtype == object:
            df[col] = df[col].astype(str).str.strip().replace(dict.fromkeys(MISSING_SYMBOLS))
        df[col] = pd.to_numeric(df[col], errors="coerce")
    period_dim = period_dim_of(raw, spec)
    prov_keys = provisional_keys(raw)
    if period_dim:
        if period_dim not in df.columns:
            raise InputError(f"CBS-tabel {table_id}: verwachte kolom '{period_dim}' ontbreekt")
        periods = df[period_dim].astype(str).str.strip()
        df = df[periods.str.endswith("JJ00")].copy()
        df["_year"] = periods[df.index].str[:4].astype(int)
        titles = {p["Key"].strip(): p.get("Title", "") for p in raw.get(period_dim, [])}
        prov_years = {int(k[:4]) for k, t in titles.items() if "*" in t and k.endswith("JJ00")}
    else:
        if year is None:
            raise InputError(f"CBS-tabel {table_id}: geen periodedimensie en geen verslagjaar opgegeven")
        df["_year"] = year
        prov_years = set()
    if df.empty:
        raise InputError(f"CBS-tabel {table_id}: geen jaarrijen over na de selectie")
    if df.duplicated([region_dim, "_year"]).any():
        raise InputError(
            f"CBS-tabel {table_id}: meerdere rijen per gebied en jaar; zet 'select' voor de extra "
            "dimensie(s) in config/cbs_tables.yaml"
        )
    long = to_long(
        df,
        region_col=region_dim,
        year=None,
        year_col="_year",
        columns=mapping,
        source_table=table_id,
        origin="cbs",
    )
    src_key = {v: k for k, v in mapping.items()}
    long["provisional"] = long["year"].isin(prov_years) | long["indicator"].map(
        lambda i: src_key.get(i) in prov_keys
    )
    return long[COLUMNS]


def v4_spec(spec: dict[str, Any], table_id: str) -> dict[str, Any]:
    """The registry spec with the measure codes of this table as exact keys (mapped by code)."""
    codes = (spec.get("v4_measures") or {}).get(table_id, {})
    return {**spec, "editions_keys": {table_id: dict(codes)}}


BOUNDS = {"lower": "_ondergrens", "upper": "_bovengrens"}


def margin_keys(raw: dict[str, Any], table_id: str, spec: dict[str, Any]) -> dict[str, str]:
    """The categories of a margins dimension (RIVM 50150NED: ``Marges``): ``value`` (central
    estimate), ``lower`` and ``upper`` (bounds of the 95% interval), each given in the registry by
    ``key`` or ``title_contains`` (compared with :func:`title_norm`); exactly one category each."""
    rule = spec["margins"]
    dim = rule["dim"]
    cats = raw.get(dim)
    if not cats:
        raise InputError(f"CBS-tabel {table_id}: dimensie '{dim}' (marges) niet in de metadata")
    out: dict[str, str] = {}
    for part in ("value", "lower", "upper"):
        want = rule[part] if isinstance(rule[part], dict) else {"key": rule[part]}
        if "key" in want:
            hits = [c["Key"] for c in cats if str(c["Key"]).strip() == str(want["key"]).strip()]
        else:
            word = title_norm(want["title_contains"])
            hits = [c["Key"] for c in cats if word in title_norm(c.get("Title", ""))]
        if len(hits) != 1:
            titles = "; ".join(f"{str(c['Key']).strip()}: {c.get('Title')}" for c in cats[:12])
            raise InputError(
                f"CBS-tabel {table_id}: dimensie '{dim}' heeft {len(hits)} categorieën voor '{part}' "
                f"({want}); beschikbaar: {titles}"
            )
        out[part] = hits[0]
    return out


def spread_margins(
    df: pd.DataFrame,
    raw: dict[str, Any],
    table_id: str,
    spec: dict[str, Any],
    region_dim: str,
    found: dict[str, str],
) -> tuple[pd.DataFrame, dict[str, str]]:
    """One row per region and period: the central estimate in the topic columns, the bounds in
    ``<topic>@lower``/``@upper``; returns the frame and column -> ``<indicator>_ondergrens`` etc."""
    dim = spec["margins"]["dim"]
    if dim not in df.columns:
        raise InputError(f"CBS-tabel {table_id}: kolom '{dim}' (marges) ontbreekt in de gegevensrijen")
    keys = margin_keys(raw, table_id, spec)
    index = [region_dim] + [c for c in (period_dim_of(raw, spec),) if c and c in df.columns]
    cat = df[dim].astype(str).str.strip()
    topics = [c for c in found.values() if c in df.columns]
    out = df[cat == str(keys["value"]).strip()]
    bounds: dict[str, str] = {}
    for part, suffix in BOUNDS.items():
        part_df = df[cat == str(keys[part]).strip()][index + topics]
        part_df = part_df.rename(columns={c: f"{c}@{part}" for c in topics})
        try:
            out = out.merge(part_df, on=index, how="left", validate="one_to_one")
        except pd.errors.MergeError as exc:
            raise InputError(
                f"CBS-tabel {table_id}: meerdere rijen per gebied en jaar binnen '{dim}'; zet 'select' "
                "voor de andere dimensies in config/cbs_tables.yaml"
            ) from exc
        bounds |= {f"{full}@{part}": f"{ind}{suffix}" for ind, full in found.items() if full in topics}
    return out, bounds


RATES = (
    ("bijstand_personen", "bijstand_per_1000"),
    ("ao_personen", "ao_per_1000"),
    ("misdrijven", "misdrijven_per_1000"),
)


def derive_rates(long: pd.DataFrame) -> pd.DataFrame:
    """Per-1,000 rates from counts and inhabitants of the same region and year (same source)."""
    out = [long]
    wide = long.pivot_table(index=["region_code", "year"], columns="indicator", values="value")
    for count, rate in RATES:
        if count in wide and "inwoners" in wide:
            r = (wide[count] / wide["inwoners"] * 1000).dropna()
            if r.empty:
                continue
            base = long[long["indicator"] == count].drop_duplicates(["region_code", "year"])
            base = base.set_index(["region_code", "year"])
            rows = base.loc[r.index].reset_index().assign(indicator=rate, value=r.values, unit="per 1000")
            out.append(rows[COLUMNS])
    return pd.concat(out, ignore_index=True)
