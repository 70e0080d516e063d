"""Reading the graph for views: a resource's properties, and the directory of units and regions that
every page and JSON answer names (computed once per server: the data cannot change while it runs).
"""
from __future__ import annotations

import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from api.readmodel.ids import iri_term, local_id
from ingest.regions import region_chains

BKG = "https://w3id.org/budgetkg/def#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DCT_TITLE = "http://purl.org/dc/terms/title"
#: the order of a row without bkg:order or bkg:lineStart: after every printed one
UNORDERED = 10**6


def props(store, iri: str) -> dict[str, list[str]]:
    """Predicate IRI → values of one subject, in the order first seen, without repeats."""
    out: dict[str, list[str]] = defaultdict(list)
    for r in store.select(f"SELECT ?p ?o WHERE {{ {iri_term(iri)} ?p ?o }}"):
        if r["o"] not in out[r["p"]]:
            out[r["p"]].append(r["o"])
    return out


def typed_props(store, iri: str, cls: str) -> dict[str, list[str]] | None:
    """:func:`props` of a resource that is a ``bkg:<cls>``; None when it is not (or does not exist)."""
    p = props(store, iri)
    return p if BKG + cls in p.get(RDF_TYPE, []) else None


def one(p: dict[str, list[str]], key: str) -> str | None:
    """The first value of ``key`` (a full IRI, or a local name of ``bkg:``)."""
    key = key if key.startswith("http") else BKG + key
    v = p.get(key)
    return v[0] if v else None


# -- units and regions ------------------------------------------------------------------------

@dataclass(frozen=True)
class UnitRef:
    """A budget unit (预算单位) as pages name it: its label and the chain of its region (清溪镇 › 东莞市 › 广东省)."""

    iri: str
    label: str
    region: str | None  # region IRI
    region_label: str | None
    chain: tuple[str, ...]  # region labels, most specific first
    level: str | None = None

    @property
    def id(self) -> str | None:
        return local_id(self.iri)

    def __getitem__(self, key: str):  # templates and older views read it like the dicts it replaced
        return getattr(self, key)


#: a region word ends the place part of a unit's name (东莞市清溪镇 | 政务服务中心)
_REGION_WORD = re.compile(r"(?:省|市|区|县|镇|街道|乡)(?!.*(?:省|市|区|县|镇|街道|乡))(.+)$")


def short_unit(label: str) -> str:
    """东莞市清溪镇政务服务中心 → 政务服务中心 (the part after the last region word)."""
    m = _REGION_WORD.search(label or "")
    return m.group(1) if m and len(m.group(1)) >= 2 else (label or "")


class Directory:
    """Every unit and region of the graph, read with two queries."""

    def __init__(self, store):
        self.chains = region_chains(store)
        self.regions: dict[str, dict] = {
            iri: {"iri": iri, "label": chain[0]["label"], "level": chain[0]["level"],
                  "chain": [c["label"] for c in chain]} for iri, chain in self.chains.items() if chain}
        self.units: dict[str, UnitRef] = OrderedDict()
        for r in store.select("SELECT ?u ?l ?r WHERE { ?u a bkg:BudgetUnit ; rdfs:label ?l . OPTIONAL { ?u bkg:region ?r } }"):
            if r["u"] in self.units:
                continue
            reg = self.regions.get(r["r"] or "")
            self.units[r["u"]] = UnitRef(iri=r["u"], label=r["l"], region=r["r"],
                                         region_label=reg["label"] if reg else None,
                                         chain=tuple(reg["chain"]) if reg else (), level=reg["level"] if reg else None)

    def unit(self, iri: str | None) -> UnitRef | None:
        """The unit of an IRI; one named by its id when the graph does not label it."""
        if not iri:
            return None
        return self.units.get(iri) or UnitRef(iri=iri, label=local_id(iri) or iri, region=None, region_label=None, chain=())


def directory(rt) -> Directory:
    """The units and regions of a running server's graph (:class:`api.runtime.Runtime`), read once."""
    return rt.once("directory", lambda: Directory(rt.store))


def documents(store, pattern: str) -> list[dict]:
    """The documents ``?d`` bound by a graph pattern, read in one query (title, file, kind, year)."""
    out: dict[str, dict] = OrderedDict()
    for r in store.select(f"""SELECT ?d ?title ?label ?file ?kind ?year WHERE {{ {pattern}
        OPTIONAL {{ ?d dcterms:title ?title }} OPTIONAL {{ ?d rdfs:label ?label }} OPTIONAL {{ ?d bkg:sourceFile ?file }}
        OPTIONAL {{ ?d bkg:documentKind ?kind }} OPTIONAL {{ ?d bkg:fiscalYear ?year }} }}"""):
        out.setdefault(r["d"], {"iri": r["d"], "title": r["title"] or r["label"] or local_id(r["d"]), "label": r["label"],
                                "file": r["file"], "kind": r["kind"], "year": r["year"], "title_printed": r["title"]})
    return list(out.values())


def document_ref(store, iri: str | None) -> dict | None:
    if not iri:
        return None
    found = documents(store, f"VALUES ?d {{ {iri_term(iri)} }}")
    return found[0] if found else unknown_document(iri)


def unknown_document(iri: str) -> dict:
    """A document the graph says nothing about, named by its id."""
    return {"iri": iri, "title": local_id(iri), "label": None, "file": None, "kind": None, "year": None, "title_printed": None}


def provenance(store, p: dict[str, list[str]]) -> dict:
    """Where a resource was read: its document and printed lines."""
    return {"document": document_ref(store, one(p, "sourceDocument")), "start": one(p, "lineStart"),
            "end": one(p, "lineEnd")}


def indicators_of(store, owner: str) -> list[dict]:
    """The indicator rows (三级指标) of a project or department target, in table order, with the merged
    cells of 一级 and 二级 as printed (``l1_span``, ``l2_span``)."""
    seen: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?i ?name ?order ?l1l ?l2l ?annual ?period WHERE {{
          {iri_term(owner)} bkg:hasIndicator ?i . ?i rdfs:label ?name .
          OPTIONAL {{ ?i bkg:order ?order }}
          OPTIONAL {{ ?i bkg:level1 ?l1 . OPTIONAL {{ ?l1 skos:prefLabel ?l1l }} }}
          OPTIONAL {{ ?i bkg:level2 ?l2 . OPTIONAL {{ ?l2 skos:prefLabel ?l2l }} }}
          OPTIONAL {{ ?i bkg:annualTarget ?annual }}
          OPTIONAL {{ ?i bkg:periodTarget ?period }}
        }}"""):
        if r["i"] in seen:
            continue
        seen[r["i"]] = {"iri": r["i"], "id": local_id(r["i"]), "name": r["name"],
                        "order": int(r["order"]) if r["order"] else UNORDERED,
                        "level1": r["l1l"] or "", "level2": r["l2l"] or "", "annual": r["annual"] or "",
                        "period": r["period"] or ""}
    items = sorted(seen.values(), key=lambda x: (x["order"], x["name"]))
    spans(items, "level1", "l1_span")
    spans(items, "level2", "l2_span", within="level1")
    return items


def spans(rows: list[dict], key: str, span: str, within: str | None = None) -> None:
    """Merged cells as printed: the first row of each run of equal ``key`` (inside a run of equal
    ``within``) gets the run's length in ``span``, the others 0."""
    for k, row in enumerate(rows):
        row[span] = 0
        starts = k == 0 or rows[k - 1][key] != row[key] or (within is not None and rows[k - 1][within] != row[within])
        if starts:
            n = 1
            while (k + n < len(rows) and rows[k + n][key] == row[key]
                   and (within is None or rows[k + n][within] == row[within])):
                n += 1
            row[span] = n


def indicator_mix(indicators: list[dict]) -> list[dict]:
    """Counts by 一级 and, inside, by 二级: the data of the indicator-mix chart."""
    mix: dict[str, dict[str, int]] = OrderedDict()
    for it in indicators:
        l1 = it["level1"] or "（未注明）"
        l2 = it["level2"] or "（未注明）"
        mix.setdefault(l1, OrderedDict())
        mix[l1][l2] = mix[l1].get(l2, 0) + 1
    return [{"name": l1, "children": [{"name": l2, "value": n} for l2, n in sub.items()]} for l1, sub in mix.items()]
