"""Partner deliveries: an indicator in config/indicators.yaml with a ``source:`` block is read from the
partner's file(s) under data/raw/local/ with no code change (issue 21, the contract there).

The contract (keys fixed)::

    source:
      file: "overlast_*.csv"          # glob under data/raw/local/; .csv/.txt, .xlsx, .parquet
      columns: {area: buurtcode, year: jaar, value: meldingen}
      supplier: "Politie Zwijndrecht" # the source shown on every page
      per: inwoners                   # optional: value is a count; rate = count / per * factor
      factor: 1000                    # optional (default 1 with per)
      sheet: "Blad1"                  # optional, xlsx
      min_count: 10                   # optional publication threshold (default settings partnerdata)

Every bad cell is a :class:`Problem` (file, line, column); the build stops at the first (``fout:``,
exit 2), ``veerkracht controleer`` lists them all. Suppression markers (``<5``, ``.``, ``x``,
``n.v.t.``, ``NA``, ``geheim``, empty) are missing values with that reason, not errors.
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputError
from analysis.records import COLUMNS
from analysis.sources import partner_read as pr

DEFAULT_MIN_COUNT = 10
MISSING_COLUMNS = ["region_code", "level", "year", "indicator", "reason", "source_table"]
VALUE_COLUMNS = ["region_code", "level", "year", "value", "line"]
MARKED_COLUMNS = ["region_code", "level", "year", "reason", "line"]
_LEVEL_OF_PREFIX = {"BU": "buurt", "WK": "wijk", "GM": "gemeente"}
_LEN_OF_PREFIX = {"BU": 8, "WK": 6, "GM": 4}


@dataclass(frozen=True)
class PartnerSpec:
    indicator: str
    label: str
    unit: str
    kind: str
    file: str
    area: str
    year: str
    value: str
    supplier: str
    per: str | None = None
    factor: float | None = None
    sheet: str | int | None = None
    min_count: int | None = None

    @property
    def counts(self) -> bool:
        """The delivered value is a count of persons (threshold applies to it)."""
        return self.kind == "count" or self.per is not None

    def threshold(self, default: int) -> int:
        return int(self.min_count if self.min_count is not None else default)


def declared(catalog: dict[str, dict]) -> list[PartnerSpec]:
    out = []
    for ind, spec in catalog.items():
        src = spec.get("source")
        if not src:
            continue
        cols = src["columns"]
        out.append(
            PartnerSpec(
                indicator=ind,
                label=spec["label"],
                unit=spec["unit"],
                kind=spec["kind"],
                file=src["file"],
                area=cols["area"],
                year=cols["year"],
                value=cols["value"],
                supplier=src["supplier"],
                per=src.get("per"),
                factor=src.get("factor"),
                sheet=src.get("sheet"),
                min_count=src.get("min_count"),
            )
        )
    return out


@dataclass(frozen=True)
class Areas:
    """The areas a delivery may name: this municipality's buurten, wijken and itself (code -> name),
    and the buurt codes of other municipalities we know (rows for those are skipped, not errors)."""

    gemeente: str
    names: dict[str, str]
    other_codes: frozenset[str] = frozenset()
    uninhabited: frozenset[str] = frozenset()  # buurten without inhabitants: not "missing" in a report

    def level(self, code: str) -> str:
        return _LEVEL_OF_PREFIX[code[:2]]


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    column: str | None
    value: str | None
    reason: str
    where: str = "regel"

    def message(self) -> str:
        parts = [str(self.path)]
        if self.line is not None:
            parts.append(f"{self.where} {self.line}")
        if self.column is not None:
            parts.append(f"kolom '{self.column}'")
        shown = f" (waarde {self.value!r})" if self.value is not None else ""
        return ": ".join(parts) + f": {self.reason}{shown}"


@dataclass
class Delivery:
    spec: PartnerSpec
    path: Path
    rows: int = 0
    values: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MARKED_COLUMNS))
    problems: list[Problem] = field(default_factory=list)
    other_gemeente: int = 0
    where: str = "regel"


def normalize_code(raw: str, areas: Areas) -> tuple[str | None, str | None]:
    """(code, None) for an area of ours; (None, None) for another municipality's area; (None, reason)
    when the code is unknown or ambiguous. Case, spaces and the BU/WK/GM prefix are optional; leading
    zeros Excel dropped are restored where only one of our areas fits."""
    c = re.sub(r"\s+", "", raw).upper()
    num = areas.gemeente[2:]
    if not c:
        return None, "lege gebiedscode"
    if not re.fullmatch(r"[0-9A-Z]+", c):
        return None, "geen gebiedscode (alleen letters en cijfers, bijvoorbeeld BU06420101)"
    prefix = c[:2] if c[:2] in _LEVEL_OF_PREFIX and not c[:2].isdigit() else None
    body = c[2:] if prefix else c
    prefixes = [prefix] if prefix else list(_LEVEL_OF_PREFIX)
    candidates = set()
    for p in prefixes:
        n = _LEN_OF_PREFIX[p]
        if len(body) <= n and body.isalnum():
            candidates.add(p + body.zfill(n) if body.isdigit() or len(body) == n else p + body)
    ours = sorted(x for x in candidates if x in areas.names)
    if len(ours) == 1:
        return ours[0], None
    if len(ours) > 1:
        return None, f"gebiedscode is niet eenduidig ({' of '.join(ours)}); schrijf de code met BU, WK of GM"
    if any(x in areas.other_codes for x in candidates):
        return None, None
    for x in candidates:  # a well-formed code of another municipality
        n = _LEN_OF_PREFIX[x[:2]]
        if len(x) == n + 2 and x[2:6] != num and x[2:6].isdigit():
            return None, None
    return None, f"onbekende gebiedscode voor {areas.gemeente}"


def parse_year(cell: str) -> int | None:
    m = re.fullmatch(r"\s*(\d{4})(\.0+)?\s*", cell)
    if not m:
        return None
    y = int(m.group(1))
    return y if 2000 <= y <= 2100 else None


def parse_delivery(path: Path, spec: PartnerSpec, areas: Areas) -> Delivery:
    """Every row of one file checked against the contract (no exception for a bad cell: a Problem)."""
    d = Delivery(spec, path)
    try:
        table = pr.read_table(path, spec.sheet)
    except InputError as exc:
        d.problems.append(Problem(path, None, None, None, str(exc).removeprefix(f"{path}: ")))
        return d
    d.where = table.where
    idx = {}
    for role, name in (("area", spec.area), ("year", spec.year), ("value", spec.value)):
        i = pr.find_column(table, name)
        if i is None:
            found = ", ".join(h for h in table.header if h) or "(geen)"
            d.problems.append(
                Problem(
                    path,
                    1 if table.where == "regel" else None,
                    name,
                    None,
                    f"kolom ontbreekt (gevonden: {found})",
                    table.where,
                )
            )
        idx[role] = i
    if d.problems:
        return d
    values_col = [r[idx["value"]] for r in table.rows]
    comma = pr.uses_decimal_comma([v for v in values_col if pr.marker(v) is None])
    vals, miss = [], []
    for row, line in zip(table.rows, table.lines, strict=True):
        d.rows += 1
        a_raw, y_raw, v_raw = row[idx["area"]], row[idx["year"]], row[idx["value"]]
        code, why = normalize_code(a_raw, areas)
        if code is None:
            if why is None:
                d.other_gemeente += 1
            else:
                d.problems.append(Problem(path, line, spec.area, a_raw, why, table.where))
            continue
        year = parse_year(y_raw)
        if year is None:
            d.problems.append(Problem(path, line, spec.year, y_raw, "geen jaartal 2000-2100", table.where))
            continue
        reason = pr.marker(v_raw)
        if reason is not None:
            miss.append((code, areas.level(code), year, reason, line))
            continue
        num = pr.parse_number(v_raw, comma if table.where == "regel" else "," in v_raw)
        if num is None or not np.isfinite(num):
            d.problems.append(
                Problem(
                    path,
                    line,
                    spec.value,
                    v_raw,
                    "geen getal en geen geheimhoudingsteken (<5, ., x, n.v.t., leeg)",
                    table.where,
                )
            )
            continue
        if spec.counts and num < 0:
            d.problems.append(
                Problem(path, line, spec.value, v_raw, "een aantal kan niet negatief zijn", table.where)
            )
            continue
        vals.append((code, areas.level(code), year, num, line))
    d.values = pd.DataFrame(vals, columns=VALUE_COLUMNS)
    d.missing = pd.DataFrame(miss, columns=MARKED_COLUMNS)
    return d


def duplicate_problems(deliveries: list[Delivery]) -> list[Problem]:
    """(area, year) twice with different values (or a value and a marker), within or across files."""
    parts = []
    for d in deliveries:
        v = d.values.assign(cell=d.values["value"].map(repr), path=str(d.path), where=d.where)
        m = d.missing.assign(cell=d.missing["reason"], path=str(d.path), where=d.where)
        parts += [
            v[["region_code", "year", "cell", "line", "path", "where"]],
            m[["region_code", "year", "cell", "line", "path", "where"]],
        ]
    if not parts:
        return []
    allc = pd.concat(parts, ignore_index=True)
    out = []
    for (code, year), g in allc.groupby(["region_code", "year"], sort=True):
        if g["cell"].nunique() > 1:
            first, second = g.iloc[0], g.iloc[1:][g["cell"].iloc[1:] != g["cell"].iloc[0]].iloc[0]
            spec = deliveries[0].spec
            out.append(
                Problem(
                    Path(second["path"]),
                    int(second["line"]),
                    spec.area,
                    code,
                    f"{code} {year} staat twee keer in de levering met verschillende waarden "
                    f"(ook {first['where']} {int(first['line'])} van {Path(first['path']).name})",
                    second["where"],
                )
            )
    return out


def matching_files(local: Path, pattern: str) -> list[Path]:
    """Files under ``local`` whose relative path matches the glob, case-insensitively (a partner's
    ``Overlast_2024.CSV`` is the same delivery)."""
    if not local.is_dir():
        return []
    want = pattern.lower()
    return sorted(
        p
        for p in local.rglob("*")
        if p.is_file()
        and not p.name.startswith(".")
        and fnmatch.fnmatchcase(p.relative_to(local).as_posix().lower(), want)
    )


def read_declared(spec: PartnerSpec, local: Path, areas: Areas) -> list[Delivery]:
    deliveries = [parse_delivery(p, spec, areas) for p in matching_files(local, spec.file)]
    dup = duplicate_problems(deliveries)
    if dup and deliveries:
        deliveries[-1].problems.extend(dup)
    return deliveries


def first_problem(deliveries: list[Delivery]) -> None:
    for d in deliveries:
        if d.problems:
            raise InputError(d.problems[0].message())


# files in data/raw/local/ that are never partner deliveries
KNOWN_LOCAL = ("focusgebieden.csv", "README.md")


def looks_like_delivery(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in pr.SUFFIXES and not path.name.startswith(".")


def undeclared_files(local: Path, specs: list[PartnerSpec], lbm_files: list[Path]) -> list[Path]:
    """Table files under data/raw/local/ that no ``source.file`` matches (and not a known file)."""
    if not local.is_dir():
        return []
    claimed = set(lbm_files)
    for s in specs:
        claimed |= set(matching_files(local, s.file))
    out = []
    for p in sorted(local.rglob("*")):
        rel = p.relative_to(local).as_posix()
        if p in claimed or rel in KNOWN_LOCAL or not looks_like_delivery(p):
            continue
        out.append(p)
    return out


@dataclass
class PartnerData:
    rows: pd.DataFrame  # long format (COLUMNS), rates already computed where ``per`` is set
    counts: pd.DataFrame  # region_code, year, indicator, count: the delivered counts (never written)
    missing: pd.DataFrame  # MISSING_COLUMNS: cells the partner delivered as suppressed / empty
    specs: list[PartnerSpec]
    notices: list[str] = field(default_factory=list)


def load_partner(
    local: Path, catalog: dict[str, dict], areas: Areas, lbm_files: list[Path], *, say=None
) -> PartnerData:
    """Every declared delivery, checked (first problem -> InputError). ``say`` prints notices
    (default: stderr): a declared file that is absent, a file that matches no declared indicator."""
    say = say or (lambda m: print(m, file=sys.stderr))
    specs = declared(catalog)
    rows, counts, missing, notices = [], [], [], []
    for spec in specs:
        deliveries = read_declared(spec, local, areas)
        if not deliveries:
            notices.append(
                f"let op: indicator {spec.indicator}: geen bestand '{spec.file}' in {local} "
                f"(config/indicators.yaml source.file); de build gaat door zonder deze indicator"
            )
            continue
        first_problem(deliveries)
        src = f"{spec.supplier} (partnerlevering: {', '.join(d.path.name for d in deliveries)})"
        vals = pd.concat([d.values for d in deliveries], ignore_index=True).drop_duplicates(
            ["region_code", "year"]
        )
        miss = pd.concat([d.missing for d in deliveries], ignore_index=True).drop_duplicates(
            ["region_code", "year"]
        )
        if spec.counts:
            counts.append(
                vals[["region_code", "year", "value"]]
                .rename(columns={"value": "count"})
                .assign(indicator=spec.indicator)
            )
        rows.append(
            vals.assign(
                indicator=spec.indicator, unit=spec.unit, source_table=src, origin="local", provisional=False
            )[COLUMNS]
        )
        missing.append(miss.assign(indicator=spec.indicator, source_table=src)[MISSING_COLUMNS])
    for p in undeclared_files(local, specs, lbm_files):
        notices.append(
            f"let op: {p} lijkt een gegevenslevering maar past bij geen indicator "
            "(geen source.file in config/indicators.yaml); niet gebruikt"
        )
    for n in notices:
        say(n)
    empty_rows = pd.DataFrame(columns=COLUMNS)
    return PartnerData(
        rows=pd.concat(rows, ignore_index=True) if rows else empty_rows,
        counts=pd.concat(counts, ignore_index=True)
        if counts
        else pd.DataFrame(columns=["region_code", "year", "count", "indicator"]),
        missing=pd.concat(missing, ignore_index=True) if missing else pd.DataFrame(columns=MISSING_COLUMNS),
        specs=specs,
        notices=notices,
    )
