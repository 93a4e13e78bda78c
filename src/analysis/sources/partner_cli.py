"""`veerkracht sjabloon ID` and `veerkracht controleer FILE...`: what a partner needs to deliver.

``sjabloon`` writes a ready-to-fill template for one declared partner indicator (CSV and XLSX: every
buurt, wijk and the gemeente with code and name, the years asked, the contract's columns, and a Dutch
instruction: comment lines at the top of the CSV, a sheet "Instructie" in the workbook).
``controleer`` checks deliveries against the contract without building and writes a short Dutch
report per file (accepted rows, rejected rows with the reason per line, suppressed cells, cells
that will not be published, areas missing). Exit 0 when every file is accepted, 2 otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from pathlib import Path

import pandas as pd

from analysis.config import indicator_catalog, settings
from analysis.errors import InputError
from analysis.io import atomic_path, write_with
from analysis.sources import partner
from analysis.sources import partner_read as pr


def areas_for(paths) -> tuple[partner.Areas, pd.DataFrame]:
    """This municipality's areas (code, name, level) from the buurt polygons, without a build."""
    from analysis.processed.build import _wijk_names, load_buurten

    src = load_buurten(paths)
    b = src.buurten
    wijk_names = _wijk_names(paths.snapshot)
    rows = [(paths.gemeente, str(b["gemeentenaam"].iloc[0]), "gemeente")]
    rows += [(w, wijk_names.get(w, w), "wijk") for w in sorted(b["wijkcode"].unique())]
    rows += [(r.buurtcode, r.buurtnaam, "buurt") for r in b.sort_values("buurtcode").itertuples()]
    table = pd.DataFrame(rows, columns=["code", "naam", "niveau"])
    names = dict(zip(table["code"], table["naam"], strict=True))
    empty = frozenset(b.loc[b["aantalInwoners"].fillna(0) <= 0, "buurtcode"])
    return partner.Areas(paths.gemeente, names, frozenset(src.all_codes - set(names)), empty), table


def spec_of(indicator: str) -> partner.PartnerSpec:
    specs = {s.indicator: s for s in partner.declared(indicator_catalog())}
    if indicator not in specs:
        known = ", ".join(sorted(specs)) or "(geen)"
        raise InputError(
            f"indicator {indicator!r}: geen partnerindicator (geen source:-blok in config/indicators.yaml); "
            f"bekend: {known}"
        )
    return specs[indicator]


def _threshold(spec: partner.PartnerSpec) -> int:
    default = int((settings().get("partnerdata") or {}).get("min_count", partner.DEFAULT_MIN_COUNT))
    return spec.threshold(default)


def instruction(spec: partner.PartnerSpec, years: list[int]) -> list[str]:
    what = "een aantal (personen of huishoudens)" if spec.counts else f"de waarde in '{spec.unit}'"
    per = f" Wij rekenen het om naar {spec.unit} (per {spec.per})." if spec.per else ""
    return [
        f"Sjabloon voor '{spec.label}' (indicator {spec.indicator}), aan te leveren door {spec.supplier}.",
        f"Vul per gebied en jaar ({', '.join(map(str, years))}) in kolom '{spec.value}' {what} in.{per}",
        f"Laat de kolommen '{spec.area}' en '{spec.year}' staan; de kolommen gebiedsnaam en niveau zijn "
        "alleen ter informatie. Vul het niveau in dat u heeft (buurt, wijk of gemeente); "
        "laat andere rijen leeg.",
        "Geheim of onbekend? Zet <5, x, . of n.v.t. in de cel, of laat haar leeg. "
        f"Aantallen onder {_threshold(spec)} publiceren wij nooit (ook niet als percentage).",
        f"Bestandsnaam: moet passen bij '{spec.file}'. Controleer vóór verzending met: "
        "veerkracht controleer <bestand>.",
    ]


def write_template(spec: partner.PartnerSpec, areas: pd.DataFrame, years: list[int], out: Path) -> list[Path]:
    rows = [
        {spec.area: r.code, "gebiedsnaam": r.naam, "niveau": r.niveau, spec.year: y, spec.value: ""}
        for y in years
        for r in areas.itertuples()
    ]
    df = pd.DataFrame(rows)
    text = instruction(spec, years)
    stem = f"{spec.indicator}_sjabloon"
    csv_path, xlsx_path = out / f"{stem}.csv", out / f"{stem}.xlsx"
    comment = "".join(f"# {line}\r\n" for line in text)
    body = df.to_csv(sep=";", index=False, lineterminator="\r\n")
    with atomic_path(csv_path) as tmp:
        tmp.write_bytes((comment + body).encode("utf-8-sig"))  # BOM: Excel opens it as UTF-8

    def _xlsx(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            df.to_excel(xw, sheet_name="Gegevens", index=False)
            pd.DataFrame({"Instructie": text}).to_excel(xw, sheet_name="Instructie", index=False)

    write_with(xlsx_path, _xlsx)
    return [csv_path, xlsx_path]


def cmd_sjabloon(args: argparse.Namespace) -> int:
    spec = spec_of(args.indicator)
    cfg = settings()["jaren"]
    years = args.jaren or [int(cfg["laatste"])]
    bad = [y for y in years if not 2000 <= y <= 2100]
    if bad:
        raise InputError(f"--jaren: {bad[0]} is geen jaartal 2000-2100")
    _, table = areas_for(args.paths)
    out = Path(args.uit) if args.uit else args.paths.outputs / "sjablonen"
    written = write_template(spec, table, sorted(set(years)), out)
    print(
        f"sjabloon {spec.indicator}: {len(table)} gebieden x {len(set(years))} jaar -> "
        + ", ".join(map(str, written))
    )
    return 0


def specs_for_file(
    path: Path, specs: list[partner.PartnerSpec], forced: str | None
) -> list[partner.PartnerSpec]:
    """The declared indicators a file belongs to: by ``--indicator``, by file name, else by header."""
    if forced:
        return [s for s in specs if s.indicator == forced]
    by_name = [s for s in specs if fnmatch.fnmatch(path.name, Path(s.file).name)]
    if by_name:
        return by_name
    try:
        header = {h.lower() for h in pr.read_table(path).header}
    except InputError:
        return []
    return [s for s in specs if {s.area.lower(), s.year.lower(), s.value.lower()} <= header]


def report(d: partner.Delivery, areas: partner.Areas, threshold: int) -> tuple[list[str], bool]:
    spec = d.spec
    where = d.where
    ok = not d.problems
    lines = [
        f"Controle van {d.path.name} voor '{spec.label}' ({spec.indicator}, {spec.supplier})",
        f"Uitslag: {'GOEDGEKEURD' if ok else 'AFGEKEURD - pas de regels hieronder aan en stuur opnieuw'}",
        f"Rijen gelezen: {d.rows}; geaccepteerd met een waarde: {len(d.values)}; "
        f"geheim of leeg aangeleverd: {len(d.missing)}; afgekeurd: {len(d.problems)}; "
        f"andere gemeenten (overgeslagen): {d.other_gemeente}",
    ]
    if d.problems:
        lines.append("")
        lines.append("Afgekeurd (per regel de reden):")
        lines += [f"- {p.message().removeprefix(str(d.path) + ': ')}" for p in d.problems[:200]]
        if len(d.problems) > 200:
            lines.append(f"- ... en nog {len(d.problems) - 200} regels")
    if len(d.missing):
        lines.append("")
        counts = d.missing["reason"].value_counts()
        lines.append("Geheim of leeg aangeleverd: " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    if spec.counts and len(d.values):
        small = d.values[d.values["value"] < threshold]
        lines.append("")
        lines.append(
            f"Niet gepubliceerd (aantal onder {threshold}, ook niet als percentage): {len(small)} cellen"
            + (
                f", bijvoorbeeld {where} " + ", ".join(str(int(x)) for x in small["line"].head(5))
                if len(small)
                else ""
            )
        )
    got = pd.concat([d.values[["region_code", "year"]], d.missing[["region_code", "year"]]])
    for year in sorted(got["year"].unique()):
        have = set(got.loc[got["year"] == year, "region_code"])
        for level in ("buurt", "wijk"):
            ours = {c for c in areas.names if areas.level(c) == level} - areas.uninhabited
            if have & ours and ours - have:
                miss = sorted(ours - have)
                more = " ..." if len(miss) > 8 else ""
                lines.append(f"Ontbrekende {level}en in {year}: {len(miss)} ({', '.join(miss[:8])}{more})")
    return lines, ok


def cmd_controleer(args: argparse.Namespace) -> int:
    paths = args.paths
    specs = partner.declared(indicator_catalog())
    if not specs:
        raise InputError(
            "config/indicators.yaml: geen enkele indicator met een source:-blok; niets te controleren"
        )
    if args.indicator:
        spec_of(args.indicator)
    areas, _ = areas_for(paths)
    out = Path(args.uit) if args.uit else paths.outputs / "controle"
    all_ok = True
    first: str | None = None
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise InputError(f"{path}: bestand niet gevonden")
        matched = specs_for_file(path, specs, args.indicator)
        if not matched:
            raise InputError(
                f"{path}: past bij geen partnerindicator (naam en kolommen passen bij geen source: in "
                "config/indicators.yaml); geef de indicator met --indicator ID"
            )
        for spec in matched:
            d = partner.parse_delivery(path, spec, areas)
            d.problems += partner.duplicate_problems([d])
            if not d.problems and d.values.empty and not (d.missing["reason"] != "leeg").any():
                d.problems.append(
                    partner.Problem(path, None, spec.value, None, "geen enkele waarde ingevuld")
                )
            lines, ok = report(d, areas, _threshold(spec))
            target = out / f"controle_{path.stem}_{spec.indicator}.txt"
            with atomic_path(target) as tmp:
                tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
            verdict = "goedgekeurd" if ok else f"afgekeurd ({len(d.problems)} regels)"
            print(f"controleer {path.name} ({spec.indicator}): {verdict}; rapport -> {target}")
            if not ok:
                all_ok = False
                first = first or d.problems[0].message()
    if not all_ok:
        print(f"fout: {first}", file=sys.stderr)
        return 2
    return 0
