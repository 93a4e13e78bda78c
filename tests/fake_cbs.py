"""A CBS-shaped OData v3 server for offline tests (real HTTP on 127.0.0.1, one thread per request).

It serves ``/ODataFeed/odata/<table>/`` (the part listing), every part with ``$format=json``, a
server-side ``$filter`` (``substringof('x',F)``, ``startswith(F,'x')``, ``F eq 'x'``,
``and``/``or``/parentheses; keys are compared exactly, padding included, as CBS does), ``$select``
and pages bulk parts through ``odata.nextLink``
(absolute, on the real CBS host, like the live service). Faults are injected per request through
``server.rule(path, query) -> None | "stall" | "cut" | "trickle" | "503"``, plus ``delay_s`` per answer.

The tables are built from the facts in issue 8 (dimension names and types, topic keys, padded keys)
and the real 85984NED metadata and 2024 values in tests/data/cbs_85984NED. Everything else in the
data parts (income shares, SES-WOA scores, crime counts, older years) is constructed test data.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

from analysis.config import PROJ_ROOT
from tests.conftest import TEST_DATA, kwb_meta

FEED = "/ODataFeed/odata"
FEED_V4 = "/odata/v1/CBS"

# --- $filter -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(\(|\)|\bor\b|\band\b|substringof\('([^']*)',(\w+)\)|(\w+) eq '([^']*)'"
    r"|startswith\((\w+),'([^']*)'\))"
)


def compile_filter(expr: str | None) -> Callable[[dict], bool]:
    """A tiny OData $filter evaluator for the subset CBS clients use; unknown syntax raises."""
    if not expr:
        return lambda row: True
    tokens, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"unsupported $filter at {expr[pos : pos + 30]!r}")
        tokens.append(m)
        pos = m.end()
    i = 0

    def peek():
        return tokens[i].group(1) if i < len(tokens) else None

    def factor():
        nonlocal i
        m = tokens[i]
        i += 1
        if m.group(1) == "(":
            f = disj()
            i += 1  # ")"
            return f
        if m.group(2) is not None:
            sub, fld = m.group(2), m.group(3)
            return lambda r: sub in str(r.get(fld, ""))
        if m.group(6) is not None:  # OData v3 startswith(field,'prefix')
            fld, prefix = m.group(6), m.group(7)
            return lambda r: str(r.get(fld, "")).startswith(prefix)
        fld, val = m.group(4), m.group(5)
        return lambda r: str(r.get(fld, "")) == val

    def conj():
        nonlocal i
        fs = [factor()]
        while peek() == "and":
            i += 1
            fs.append(factor())
        return lambda r: all(f(r) for f in fs)

    def disj():
        nonlocal i
        fs = [conj()]
        while peek() == "or":
            i += 1
            fs.append(conj())
        return lambda r: any(f(r) for f in fs)

    return disj()


# --- server --------------------------------------------------------------------------------------


class FakeCbs(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, tables: dict[str, dict[str, list]], page_size: int = 10_000, v4: dict[str, dict] | None = None
    ):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.tables = tables
        self.v4 = v4 or {}  # OData v4 tables under /odata/v1/CBS/<id>/ (see v4_table)
        self.page_size = page_size
        self.delay_s = 0.0
        self.rule: Callable[[str, dict], str | None] = lambda path, query: None
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> FakeCbs:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def data_requests(self, table_id: str) -> list[dict]:
        return [q for p, q in self.requests if p == f"{FEED}/{table_id}/TypedDataSet"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeCbs

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path.rstrip("/") if parts.path != f"{FEED}/" else parts.path
        self.server.requests.append((path, query))
        if self.server.release.wait(self.server.delay_s):
            return
        action = self.server.rule(path, query)
        if action == "stall":
            self.server.release.wait(60)
            return
        if action == "503":
            return self._send(503, {"error": "busy"})
        status, doc = self._answer(path, query)
        if action == "cut":
            return self._send_cut(doc)
        if action == "trickle":
            return self._send_trickle(doc)
        self._send(status, doc)

    def _answer(self, path: str, query: dict) -> tuple[int, dict]:
        if path.startswith(FEED_V4):
            return self._answer_v4(path, query)
        rest = path[len(FEED) :].strip("/").split("/") if path.startswith(FEED) else None
        if rest is None:
            return 404, {"error": "not found"}
        if rest == [""]:
            return 200, {"value": [{"name": t, "url": f"{FEED}/{t}"} for t in self.server.tables]}
        table = self.server.tables.get(rest[0])
        if table is None:
            return 404, {"error": f"table {rest[0]} not found"}
        if len(rest) == 1:
            names = [*table, "UntypedDataSet"]
            return 200, {
                "value": [{"name": n, "url": f"https://opendata.cbs.nl{FEED}/{rest[0]}/{n}"} for n in names]
            }
        part = table.get(rest[1])
        if part is None:
            return 404, {"error": "part not found"}
        keep = compile_filter(query.get("$filter"))
        rows = [r for r in part if keep(r)]
        if query.get("$select"):  # OData $select: only the named properties, absent ones left out
            names = query["$select"].split(",")
            rows = [{n: r[n] for n in names if n in r} for r in rows]
        skip = int(query.get("$skip", 0))
        page = rows[skip : skip + self.server.page_size]
        doc: dict = {"odata.metadata": "x", "value": page}
        if skip + self.server.page_size < len(rows):
            q = {k: v for k, v in query.items() if k != "$skip"} | {
                "$skip": str(skip + self.server.page_size)
            }
            qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in q.items())
            doc["odata.nextLink"] = f"https://opendata.cbs.nl{path}?{qs}"
        return 200, doc

    def _answer_v4(self, path: str, query: dict) -> tuple[int, dict]:
        """OData v4 as CBS serves it: entity sets of a table, ``$filter``, paging via ``@odata.nextLink``."""
        rest = path[len(FEED_V4) :].strip("/").split("/")
        table = self.server.v4.get(rest[0])
        if table is None:
            return 404, {"error": f"table {rest[0]} not found"}
        if len(rest) == 1:
            return 200, {
                "@odata.context": "x",
                "value": [{"name": n, "kind": "EntitySet", "url": n} for n in table],
            }
        part = table.get(rest[1])
        if part is None:
            return 404, {"error": "entity set not found"}
        keep = compile_filter(query.get("$filter"))
        rows = [r for r in part if keep(r)]
        skip = int(query.get("$skip", 0))
        doc: dict = {"@odata.context": "x", "value": rows[skip : skip + self.server.page_size]}
        if skip + self.server.page_size < len(rows):
            q = {k: v for k, v in query.items() if k != "$skip"} | {
                "$skip": str(skip + self.server.page_size)
            }
            qs = "&".join(f"{k}={quote(v, safe='')}" for k, v in q.items())
            doc["@odata.nextLink"] = f"https://datasets.cbs.nl{path}?{qs}"
        return 200, doc

    def _send(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_trickle(self, doc: dict) -> None:
        """A full Content-Length, then one byte per 50 ms: every read succeeds within any read timeout."""
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for b in body:
            if self.server.release.wait(0.05):
                return
            self.wfile.write(bytes([b]))
            self.wfile.flush()

    def _send_cut(self, doc: dict) -> None:
        """Chunked answer whose connection is cut halfway: the client sees ChunkedEncodingError."""
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        half = body[: max(1, len(body) // 2)]
        self.wfile.write(f"{len(body):x}\r\n".encode() + half)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)


# --- CBS-shaped tables ---------------------------------------------------------------------------

ZWIJNDRECHT_BUURTEN = ["BU06420101", "BU06420102", "BU06420103", "BU06420201", "BU06420301"]


def pad(code: str) -> str:
    return code.ljust(10)


def _props(dims: list[tuple[str, str]], groups: list[tuple[str, list[str]]]) -> list[dict]:
    """DataProperties: dimensions (key, type), then TopicGroups (title, [topic keys]); title '' = no group."""
    props, i = [], 0
    for key, typ in dims:
        props.append({"ID": i, "Position": i, "ParentID": None, "Type": typ, "Key": key, "Title": key})
        i += 1
    seen: dict[str, int] = {}
    for title, keys in groups:
        parent = None
        for depth, part in enumerate(title.split(" > ") if title else []):  # "SES-WOA > Totaalscore"
            path = " > ".join(title.split(" > ")[: depth + 1])
            if path not in seen:
                props.append(
                    {
                        "ID": i,
                        "Position": None,
                        "ParentID": parent,
                        "Type": "TopicGroup",
                        "Key": "",
                        "Title": part,
                    }
                )
                seen[path], i = i, i + 1
            parent = seen[path]
        for k in keys:
            props.append(
                {
                    "ID": i,
                    "Position": i,
                    "ParentID": parent,
                    "Type": "Topic",
                    "Key": k,
                    "Title": k,
                    "Description": None,
                    "Datatype": "Double",
                    "Unit": "",
                    "Decimals": 1,
                }
            )
            i += 1
    return props


def _info(table_id: str, title: str, modified: str = "2025-01-01T02:00:00") -> list[dict]:
    return [{"ID": 0, "Title": title, "Identifier": table_id, "Modified": modified, "Catalog": "CBS"}]


def _region_dim(codes: list[str], titles: dict[str, str] | None = None) -> list[dict]:
    """The region dimension endpoint: padded Key, Title (the name; the code where none is given)."""
    titles = titles or {}
    return [{"Key": pad(c), "Title": titles.get(c, c), "Description": None} for c in codes]


def real_2024_values() -> dict[str, dict]:
    """Real 85984NED values (tests/data): Zwijndrecht, its wijken and the other Drechtsteden."""
    return json.loads((TEST_DATA / "cbs_85984NED" / "stripped_drechtsteden_2024.json").read_text())


# Old KWB topic names and suffixes per year (2013: RegioS and pre-2014 names; 2018+: three new topics).
def kwb_keys(year: int) -> dict[str, str]:
    if year == 2024:
        return {
            "inwoners": "AantalInwoners_5",
            "huishoudens": "HuishoudensTotaal_29",
            "laag_inkomen_pct": "HuishoudensMetEenLaagInkomen_89",
            "sociaal_minimum_pct": "HuishOnderOfRondSociaalMinimum_90",
            "bijstand_personen": "PersonenPerSoortUitkeringBijstand_94",
            "ao_personen": "PersonenPerSoortUitkeringAO_95",
            "woz": "GemiddeldeWOZWaardeVanWoningen_39",
            "corporatie_pct": "InBezitWoningcorporatie_49",
            "arbeidsparticipatie_pct": "Nettoarbeidsparticipatie_78",
            "jeugdzorg_pct": "PercentageJongerenMetJeugdzorg_99",
            "wmo_per_1000": "WmoClientenRelatief_101",
        }
    if year == 2013:
        return {
            "inwoners": "AantalInwoners_5",
            "huishoudens": "HuishoudensTotaal_28",
            "lage_koopkracht_pct": "HuishoudensMetLageKoopkracht_60",
            "woz": "GemiddeldeWoningwaarde_33",
            "bijstand_personen": "PersonenMetEenWWBUitkeringTotaal_71",
            "corporatie_pct": "InBezitWoningcorporatie_40",
        }
    s = year - 2000  # a different suffix per edition, as CBS renumbers
    keys = {
        "inwoners": "AantalInwoners_5",
        "huishoudens": f"HuishoudensTotaal_{s + 10}",
        "laag_inkomen_pct": f"HuishoudensMetEenLaagInkomen_{s + 60}",
        "sociaal_minimum_pct": f"HuishOnderOfRondSociaalMinimum_{s + 61}",
        "bijstand_personen": f"PersonenPerSoortUitkeringBijstand_{s + 70}",
        "ao_personen": f"PersonenPerSoortUitkeringAO_{s + 71}",
        "woz": f"GemiddeldeWOZWaardeVanWoningen_{s + 20}"
        if year not in (2017, 2018, 2019)
        else "GemiddeldeWoningwaarde_35",
        "corporatie_pct": f"InBezitWoningcorporatie_{s + 30}",
    }
    if year >= 2018:
        keys |= {
            "arbeidsparticipatie_pct": f"Nettoarbeidsparticipatie_{s + 50}",
            "jeugdzorg_pct": f"PercentageJongerenMetJeugdzorg_{s + 80}",
            "wmo_per_1000": f"WmoClientenRelatief_{s + 82}",
        }
    return keys


def kwb_table(year: int, table_id: str, *, regions: list[str] | None = None, national: bool = True) -> dict:
    """One KWB edition. 2024 uses the real 85984NED metadata and real inwoners; the real extract has
    no NL row, so ``national=False`` reproduces the live answer for NL00."""
    real = real_2024_values()
    codes = regions or [c for c in real if c.startswith(("GM", "WK"))] + ZWIJNDRECHT_BUURTEN
    if national:
        codes = ["NL00", *codes]
    keys = kwb_keys(year)
    region_dim = "RegioS" if year == 2013 else "WijkenEnBuurten"
    if year == 2024:
        meta = kwb_meta()
    else:
        meta = {
            "TableInfos": _info(table_id, f"Kerncijfers wijken en buurten {year}"),
            "DataProperties": _props([(region_dim, "GeoDetail")], [("Bevolking", list(keys.values()))]),
            "CategoryGroups": [],
        }
    rows = []
    for n, code in enumerate(codes):
        inw = real.get(code, {}).get("AantalInwoners_5") if year == 2024 else None
        inw = inw or (17_942_942 if code == "NL00" else 40_000 if code.startswith("GM") else 1_000 + 10 * n)
        row = {"ID": n, region_dim: pad(code)}
        for ind, key in keys.items():
            row[key] = {
                "inwoners": inw,
                "huishoudens": round(inw / 2.2),
                "bijstand_personen": round(inw * 0.03),
                "ao_personen": round(inw * 0.05),
                "woz": 250 + year - 2013,
            }.get(ind, 5.0 + (n % 7) + (year - 2013) / 10)
        rows.append(row)
    rows[-1][keys["huishoudens"]] = "."  # CBS' secrecy symbol
    return {**meta, region_dim: _region_dim(codes), "TypedDataSet": rows}


SES_GROUPS = {
    # the shape of the earlier tests: four flat TopicGroups
    "flat": ("SES-WOA totaalscore", "Welvaart", "Opleidingsniveau", "Recent arbeidsverleden"),
    # as published (issue 26): the welvaart group is titled "Financiële welvaart"
    "published": ("SES-WOA totaalscore", "Financiële welvaart", "Opleidingsniveau", "Recent arbeidsverleden"),
    # as in a CBS CSV export of an earlier edition (column paths "SES-WOA/Deelscore financiële welvaart/
    # Gemiddelde score"), found with the search tool: nested below one "SES-WOA" group
    "nested": (
        "SES-WOA > Totaalscore",
        "SES-WOA > Deelscore financiële welvaart",
        "SES-WOA > Deelscore opleidingsniveau",
        "SES-WOA > Deelscore arbeidsverleden",
    ),
}


def ses_table(table_id: str = "86296NED", regions: list[str] | None = None, shape: str = "flat") -> dict:
    """SES-WOA: WijkenEnBuurten + Perioden 2014-2024 ('2024*' provisional), four GemiddeldeScore keys,
    each below its own TopicGroup (titles per ``shape``: SES_GROUPS), next to other topics (Waarde_*)."""
    codes = regions or ["NL00", "GM0642", "WK064201", *ZWIJNDRECHT_BUURTEN]
    total, welvaart, opleiding, arbeid = SES_GROUPS[shape]
    groups = [
        (total, ["GemiddeldeScore_29", "Waarde_30"]),
        (welvaart, ["GemiddeldeScore_31", "Waarde_32"]),
        (opleiding, ["Waarde_16", "Waarde_19", "Waarde_22", "GemiddeldeScore_33"]),
        (arbeid, ["GemiddeldeScore_35", "Waarde_36"]),
    ]
    periods = [{"Key": f"{y}JJ00", "Title": f"{y}*" if y == 2024 else str(y)} for y in range(2014, 2025)]
    rows = []
    for n, code in enumerate(codes):
        for p in periods:
            y = int(p["Key"][:4])
            base = -0.3 + n / 20 + (y - 2014) / 100
            rows.append(
                {
                    "ID": len(rows),
                    "WijkenEnBuurten": pad(code),
                    "Perioden": p["Key"],
                    "GemiddeldeScore_29": round(base, 3),
                    "Waarde_30": 50.0,
                    "GemiddeldeScore_31": round(base + 0.1, 3),
                    "Waarde_32": 1.0,
                    "Waarde_16": 30.0,
                    "Waarde_19": 40.0,
                    "Waarde_22": 30.0,
                    "GemiddeldeScore_33": round(base - 0.1, 3),
                    "GemiddeldeScore_35": round(base + 0.05, 3),
                    "Waarde_36": None,
                }
            )
    return {
        "TableInfos": _info(
            table_id, "Sociaal-economische status; scores per wijk en buurt, regio-indeling 2025"
        ),
        "DataProperties": _props([("WijkenEnBuurten", "GeoDetail"), ("Perioden", "TimeDimension")], groups),
        "CategoryGroups": [],
        "WijkenEnBuurten": _region_dim(codes),
        "Perioden": periods,
        "TypedDataSet": rows,
    }


def politie_table(regions: list[str] | None = None) -> dict:
    """47018NED: SoortMisdrijf (total key '0.0.0 ' with a trailing space), WijkenEnBuurten, Perioden."""
    codes = regions or ["NL00", "GM0642", "WK064201", *ZWIJNDRECHT_BUURTEN]
    soort = [
        {"Key": "0.0.0 ", "Title": "Totaal misdrijven", "CategoryGroupID": None},
        {"Key": "1.1.1 ", "Title": "Diefstal/inbraak woning", "CategoryGroupID": 1},
        {"Key": "1.2.1 ", "Title": "Diefstal van brom-, snor-, fietsen", "CategoryGroupID": 1},
    ]
    periods = [{"Key": f"{y}JJ00", "Title": str(y)} for y in (2021, 2022, 2023)]
    rows = []
    for n, code in enumerate(codes):
        for p in periods:
            for k, s in enumerate(soort):
                total = 100 + 5 * n + int(p["Key"][:4]) - 2021
                rows.append(
                    {
                        "ID": len(rows),
                        "SoortMisdrijf": s["Key"],
                        "WijkenEnBuurten": pad(code),
                        "Perioden": p["Key"],
                        "GeregistreerdeMisdrijven_1": total if k == 0 else total // 5,
                    }
                )
    return {
        "TableInfos": _info(
            "47018NED", "Geregistreerde misdrijven; soort misdrijf, wijk, buurt, jaarcijfers"
        ),
        "DataProperties": _props(
            [("SoortMisdrijf", "Dimension"), ("WijkenEnBuurten", "GeoDetail"), ("Perioden", "TimeDimension")],
            [("", ["GeregistreerdeMisdrijven_1"])],
        ),
        "CategoryGroups": [{"ID": 1, "Title": "Vermogensmisdrijven"}],
        "SoortMisdrijf": soort,
        "WijkenEnBuurten": _region_dim(codes),
        "Perioden": periods,
        "TypedDataSet": rows,
    }


LAAG_INKOMEN_DIMS = {
    "InkomensgrensHuishouden": [
        ("A048860", "Inkomen onder lage-inkomensgrens"),
        ("A048861", "Inkomen onder beleidsmatig minimum"),
    ],
    "DuurInkomenspositie": [("T001021", "Totaal"), ("A048862", "4 jaar of langer")],
    "KenmerkenVanHuishoudens": [
        ("1050010", "Totaal particuliere huishoudens"),
        ("1050015", "Eenouderhuishouden"),
    ],
}


def laag_inkomen_table(regions: list[str] | None = None, dims: dict | None = None) -> dict:
    """85678NED: RegioS (gemeente and up) + three extra dimensions whose codes are only known from
    their dimension endpoints; topics ParticuliereHuishoudens_1, Personen_2, MinderjarigeKinderen_3,
    …Relatief_4/5/6."""
    dims = dims or LAAG_INKOMEN_DIMS
    codes = regions or ["NL01", "GM0642", "GM0505"]  # regional tables code Nederland as NL01
    periods = [
        {"Key": f"{y}JJ00", "Title": f"{y}*" if y == 2022 else str(y)} for y in (2019, 2020, 2021, 2022)
    ]
    topics = [
        "ParticuliereHuishoudens_1",
        "Personen_2",
        "MinderjarigeKinderen_3",
        "ParticuliereHuishoudensRelatief_4",
        "PersonenRelatief_5",
        "MinderjarigeKinderenRelatief_6",
    ]
    names = list(dims)
    rows = []
    for n, code in enumerate(codes):
        for p in periods:
            for a in dims[names[0]]:
                for b in dims[names[1]]:
                    for c in dims[names[2]]:
                        v = 1000 * (n + 1) + 10 * len(rows)
                        rows.append(
                            {
                                "ID": len(rows),
                                names[0]: a[0],
                                names[1]: b[0],
                                names[2]: c[0],
                                "RegioS": pad(code),
                                "Perioden": p["Key"],
                                **{t: v + i for i, t in enumerate(topics)},
                            }
                        )
    return {
        "TableInfos": _info(
            "85678NED", "Laag en langdurig laag inkomen; huishoudenskenmerken, regio (indeling 2023)"
        ),
        "DataProperties": _props(
            [
                (names[0], "Dimension"),
                (names[1], "Dimension"),
                (names[2], "Dimension"),
                ("RegioS", "GeoDimension"),
                ("Perioden", "TimeDimension"),
            ],
            [("Huishoudens met laag inkomen", topics)],
        ),
        "CategoryGroups": [],
        **{d: [{"Key": k, "Title": t} for k, t in cats] for d, cats in dims.items()},
        "RegioS": _region_dim(codes),
        "Perioden": periods,
        "TypedDataSet": rows,
    }


RIVM_TOPICS = [
    "GoedErvarenGezondheid_4",
    "LageVeerkracht_22",
    "MatigVeelRegieOverHetEigenLeven_24",
    "Eenzaam_25",
    "MoeiteMetRondkomen_32",
]  # keys as in public code querying 50150NED
RIVM_MARGES = [  # 'MW00000' as in public code; the bound keys and all titles are constructed
    {"Key": "MW00000", "Title": "Waarde", "Description": None},
    {"Key": "MOG0095", "Title": "Ondergrens 95%-betrouwbaarheidsinterval", "Description": None},
    {"Key": "MBG0095", "Title": "Bovengrens 95%-betrouwbaarheidsinterval", "Description": None},
]


def rivm_value(code_index: int, year: int, topic: int) -> float:
    """The constructed central estimate of one cell (the bounds are this -/+ a half-width)."""
    return round(10 + 3 * topic + code_index * 1.5 + (year - 2012) * 0.2, 1)


def rivm_halfwidth(code: str) -> float:
    """Constructed: wide intervals for buurten (small samples), narrow for gemeente and country."""
    return {"BU": 4.0, "WK": 2.0}.get(code[:2], 0.5)


def rivm_table(regions: list[str] | None = None) -> dict:
    """50150NED shape (dataderden): WijkenEnBuurten, Perioden (2012/2016/2020/2022/2024), Leeftijd
    ('20300' = 18 jaar of ouder, as in public code; a second, constructed age group) and Marges (see
    RIVM_MARGES). Values are constructed; BU06420101 is far above the gemeente (interval apart),
    BU06420102 only slightly (intervals overlap)."""
    codes = regions or ["NL01", "GM0642", "WK064201", *ZWIJNDRECHT_BUURTEN]
    periods = [{"Key": f"{y}JJ00", "Title": str(y)} for y in (2012, 2016, 2020, 2022, 2024)]
    leeftijd = [{"Key": "20300", "Title": "18 jaar of ouder"}, {"Key": "53115", "Title": "65 jaar of ouder"}]
    rows = []
    for n, code in enumerate(codes):
        shift = {"BU06420101": 12.0, "BU06420102": 1.0}.get(code, 0.0)
        for p in periods:
            y = int(p["Key"][:4])
            for age in leeftijd:
                for m in RIVM_MARGES:
                    row = {
                        "ID": len(rows),
                        "Leeftijd": age["Key"],
                        "Marges": m["Key"],
                        "WijkenEnBuurten": pad(code),
                        "Perioden": p["Key"],
                    }
                    for i, key in enumerate(RIVM_TOPICS):
                        v = rivm_value(min(n, 2), y, i) + shift + (5 if age["Key"] != "20300" else 0)
                        hw = rivm_halfwidth(code)
                        row[key] = round({"MW00000": v, "MOG0095": v - hw, "MBG0095": v + hw}[m["Key"]], 1)
                    rows.append(row)
    dims = [
        ("Leeftijd", "Dimension"),
        ("Marges", "Dimension"),
        ("WijkenEnBuurten", "GeoDetail"),
        ("Perioden", "TimeDimension"),
    ]
    return {
        "TableInfos": _info(
            "50150NED", "Gezondheid per wijk en buurt; 2012/2016/2020/2022/2024 (indeling 2024)"
        ),
        "DataProperties": _props(dims, [("", RIVM_TOPICS)]),
        "CategoryGroups": [],
        "Leeftijd": leeftijd,
        "Marges": RIVM_MARGES,
        "WijkenEnBuurten": _region_dim(codes),
        "Perioden": periods,
        "TypedDataSet": rows,
    }


def v4_table(raw: dict, codes: dict[str, str]) -> dict[str, list]:
    """The v4 shape of a v3 test table (for v3/v4 equality): one Observations row per non-empty cell
    with the measure code (``codes``: v3 topic key -> constructed code such as ``M000352``), unpadded
    dimension codes, Dimensions/MeasureCodes/MeasureGroups/<Dim>Codes as in CBS's v4 examples."""
    props = raw["DataProperties"]
    kinds = {
        "GeoDetail": "GeoDetailDimension",
        "GeoDimension": "GeoDimension",
        "TimeDimension": "TimeDimension",
    }
    dims = [p for p in props if p.get("Type") in ("Dimension", "TimeDimension", "GeoDimension", "GeoDetail")]
    groups = [p for p in props if p.get("Type") == "TopicGroup"]
    topics = [p for p in props if p.get("Type") == "Topic" and p["Key"] in codes]
    obs = []
    for r in raw["TypedDataSet"]:
        for tp in topics:
            value = r.get(tp["Key"])
            if value is None or (isinstance(value, str) and value.strip() in {".", "", "x", "-"}):
                continue  # v4 leaves empty cells out
            row = {"Id": len(obs), "Measure": codes[tp["Key"]], "ValueAttribute": "None", "Value": value}
            row |= {d["Key"]: str(r[d["Key"]]).strip() for d in dims}
            obs.append(row)
    out: dict[str, list] = {
        "Observations": obs,
        "Dimensions": [
            {"Identifier": d["Key"], "Title": d["Title"], "Kind": kinds.get(d["Type"], "Dimension")}
            for d in dims
        ],
        "MeasureGroups": [
            {"Id": g["ID"], "Index": g["ID"], "Title": g["Title"], "ParentId": g.get("ParentID")}
            for g in groups
        ],
        "MeasureCodes": [
            {
                "Identifier": codes[tp["Key"]],
                "Index": n,
                "Title": tp.get("Title"),
                "Description": tp.get("Description"),
                "MeasureGroupId": tp.get("ParentID"),
                "Unit": tp.get("Unit"),
            }
            for n, tp in enumerate(topics)
        ],
    }
    for d in dims:
        out[f"{d['Key']}Codes"] = [
            {"Identifier": str(c["Key"]).strip(), "Title": c.get("Title")} for c in raw.get(d["Key"], [])
        ]
    return out


def registry_tables(registry: dict) -> dict[str, dict]:
    """Every table the registry names, CBS-shaped."""
    tables: dict[str, dict] = {}
    for year, tid in registry["kwb"]["years"].items():
        tables[tid] = kwb_table(int(year), tid)
    tables["86296NED"] = ses_table("86296NED")
    tables["47018NED"] = politie_table()
    tables["85678NED"] = laag_inkomen_table()
    tables["50150NED"] = rivm_table()
    return tables


# --- all-NL tables for the national pull (issue 13) ---------------------------------------------------

SNAPSHOT = PROJ_ROOT / "data" / "raw" / "snapshot"


def held_names() -> dict[str, str]:
    """Real names we hold offline, by code: gemeenten and wijken from KWB 2016/2017 (2017 wins), the
    Drechtsteden buurten from the PDOK Wijk- en buurtkaart 2023 (snapshot/kwb_2023_pdok)."""
    from analysis.sources.snapshot import kwb_national

    old = kwb_national(SNAPSHOT).sort_values("year")
    names = old.groupby("region_code")["name"].last().astype(str).str.strip().to_dict()
    geo = json.loads((SNAPSHOT / "kwb_2023_pdok" / "buurten_2023_drechtsteden.geojson").read_text("utf-8"))
    names |= {f["properties"]["buurtcode"]: f["properties"]["buurtnaam"] for f in geo["features"]}
    return names


def national_kwb_2024(
    buurten: bool = True,
    extra_buurten: dict[str, dict[str, float | None]] | None = None,
    titles: dict[str, str] | None = None,
) -> dict:
    """85984NED for the whole country: the real metadata and, for every gemeente and wijk, the real
    values of the bundled all-NL extract (``snapshot/national/kwb_2024_gemeente_wijk_nl.csv.gz``:
    inwoners, mannen, vrouwen, dichtheid, woningvoorraad, oppervlakte). Every other topic is null, as
    CBS serves a figure it does not publish (we do not hold those values, so none is made up). No NL00
    row: the real extract has none. ``buurten``: Zwijndrecht's five buurten with constructed
    inhabitants (test data, only there to check the level filter); ``extra_buurten``: more buurt rows,
    ``{code: {topic key: value or None}}`` (constructed test data; None = not published).

    The region dimension's titles (``WijkenEnBuurten`` endpoint: Key + Title) are the real names we hold
    (:func:`held_names`); a code without one gets the constructed title ``"Testnaam <code>"``;
    ``titles`` overrides per code (constructed, e.g. a renamed wijk)."""
    meta = kwb_meta()
    topics = [p["Key"] for p in meta["DataProperties"] if p.get("Type") == "Topic"]
    with gzip.open(SNAPSHOT / "national" / "kwb_2024_gemeente_wijk_nl.csv.gz", "rt", encoding="utf-8") as fh:
        real = list(csv.DictReader(fh))
    rows = []
    for r in real:
        row = {"ID": len(rows), "WijkenEnBuurten": pad(r["code"])}
        row |= dict.fromkeys(topics)
        row |= {k: float(v) if v not in ("", ".") else None for k, v in r.items() if k != "code"}
        rows.append(row)
    extra = {c: {"AantalInwoners_5": 1_000 + n} for n, c in enumerate(ZWIJNDRECHT_BUURTEN)} if buurten else {}
    for code, values in {**extra, **(extra_buurten or {})}.items():
        rows.append({"ID": len(rows), "WijkenEnBuurten": pad(code), **dict.fromkeys(topics), **values})
    codes = [r["WijkenEnBuurten"].strip() for r in rows]
    names = held_names()
    names = {c: names.get(c, f"Testnaam {c}") for c in codes} | (titles or {})
    return {**meta, "WijkenEnBuurten": _region_dim(codes, names), "TypedDataSet": rows}


def kwb_2025_zwijndrecht() -> dict:
    """A KWB 2025 edition (86165NED) answering for Zwijndrecht and its wijken with the bundled real KWB
    2025 figures (``snapshot/kwb_2025_wijkwarm/zwijndrecht.json``, PROVENANCE §6: inwoners, huishoudens,
    woz, corporatie %); topics not in that file are null. Topic-key suffixes are constructed (the real
    86165NED metadata is not held offline); the harmoniser maps by name, so they do not matter."""
    doc = json.loads((SNAPSHOT / "kwb_2025_wijkwarm" / "zwijndrecht.json").read_text(encoding="utf-8"))
    keys = kwb_keys(2025)
    fields = {
        "inwoners": "inwoners",
        "huishoudens": "huishoudens",
        "woz": "woz",
        "corporatie_pct": "corporatie_pct",
    }
    rows = []
    for area in [doc["gemeente"], *doc["wijken"]]:
        row = {"ID": len(rows), "WijkenEnBuurten": pad(area["code"]), **dict.fromkeys(keys.values())}
        for ind, f in fields.items():
            row[keys[ind]] = area.get(f)
        rows.append(row)
    codes = [r["WijkenEnBuurten"].strip() for r in rows]
    return {
        "TableInfos": _info("86165NED", "Kerncijfers wijken en buurten 2025"),
        "DataProperties": _props([("WijkenEnBuurten", "GeoDetail")], [("Bevolking", list(keys.values()))]),
        "CategoryGroups": [],
        "WijkenEnBuurten": _region_dim(codes),
        "TypedDataSet": rows,
    }


def gebieden_table(table_id: str = "85755NED") -> dict:
    """ "Gebieden in Nederland 2024" shaped as found in public code (RegioS; the provincie as Code_28 /
    Naam_29 below the TopicGroup 'Provincies', next to other divisions' Code/Naam topics). Rows: the
    seven Drechtsteden gemeenten with their real provincie from the bundled PDOK Bestuurlijke Gebieden
    file (``ligtInProvincieCode`` 28 = PV28 Zuid-Holland); no other gemeente, so none is made up."""
    geo = json.loads(
        (SNAPSHOT / "kwb_2023_pdok" / "gemeenten_drechtsteden_pdok_bestuurlijkegebieden.geojson").read_text(
            "utf-8"
        )
    )
    groups = [
        ("Gemeenten", ["Code_1", "Naam_2"]),
        ("Arbeidsmarktregio's", ["Code_3", "Naam_4"]),
        ("Provincies", ["Code_28", "Naam_29"]),
    ]
    rows = []
    for f in geo["features"]:
        p = f["properties"]
        rows.append(
            {
                "ID": len(rows),
                "RegioS": pad(p["identificatie"]),
                "Code_1": p["identificatie"],
                "Naam_2": p["naam"],
                "Code_3": None,
                "Naam_4": None,
                "Code_28": f"PV{int(p['ligtInProvincieCode']):02d}",
                "Naam_29": p["ligtInProvincieNaam"],
            }
        )
    codes = [r["RegioS"].strip() for r in rows]
    return {
        "TableInfos": _info(table_id, "Gebieden in Nederland 2024"),
        "DataProperties": _props([("RegioS", "GeoDimension")], groups),
        "CategoryGroups": [],
        "RegioS": _region_dim(codes),
        "TypedDataSet": rows,
    }
