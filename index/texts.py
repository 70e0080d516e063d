"""What is searched: items (projects, indicators, key tasks) read from the graph, each with its
metadata (unit, region, year, amount, source) and the texts that describe it.

Text units, chosen by measurement on the development queries (see bench/search_quality.py):
a project is described by its name, its goals, its 项目概述/设立依据, its indicators' 三级 texts and
the names other tables give it (重点项目 list, 项目经费情况说明); an indicator by its 三级 text
(its 一级/二级 levels and target are kept as context for display and lexical matching); a key task
by its name, content and expected outcome; a budget line (a coded line of a budget table) by the
name printed on it and its classification's name when that differs (field ``line``: its cosines
are standardised among lines, so short code names do not shift the statistics of project names).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from ingest.regions import region_chains

#: passage field → weight of its (per-field standardised) cosine when an item is scored by its best
#: passages. Indicators weigh least: their texts are generic and shared by many projects
#: ("预算执行率"), so they are weaker evidence of what a project is about (measured: 0.93 → 0.7
#: raised dense nDCG@10 on the dev queries from 0.90 to 0.94).
FIELD_WEIGHTS = {
    "name": 1.0,
    "alias": 1.0,
    "goal": 0.97,
    "summary": 0.95,
    "indicator": 0.7,
    "content": 0.97,
    "outcome": 0.95,
    "basis": 0.93,
    "clause": 0.95,
    "line": 1.0,
}
MAX_CHARS = 400  # e5-small reads 512 tokens; longer goals are cut at a sentence end near this


@dataclass
class Item:
    iri: str
    kind: str  # project | indicator | task | line
    name: str
    unit: str | None = None
    unit_iri: str | None = None
    town: str | None = None
    regions: list[str] = field(default_factory=list)  # the region chain, most specific first
    year: int | None = None
    amount: str | None = None  # decimal string, 元
    project: dict | None = None  # indicator: {"iri", "name"} of its project (or department target)
    document: str | None = None
    lines: list[int] | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)  # (field, text) to embed / match
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "Item":
        d = dict(d)
        d["fields"] = [tuple(x) for x in d.get("fields", [])]
        return cls(**d)


def clauses(text: str, min_chars: int = 6, max_chars: int = 60) -> list[str]:
    """Sentences of a long text, long sentences split at commas: specific mentions (叫号系统, 安全设备)
    get passages of their own instead of being averaged into a whole paragraph."""
    out: list[str] = []
    for sent in re.split(r"[。；;！!？?\n]+", text):
        sent = sent.strip(" ，,、：:")
        if len(sent) <= max_chars:
            parts = [sent]
        else:
            parts, cur = [], ""
            for piece in re.split(r"(?<=[，,])", sent):
                if cur and len(cur) + len(piece) > max_chars:
                    parts.append(cur)
                    cur = ""
                cur += piece
            parts.append(cur)
        out.extend(p.strip(" ，,、") for p in parts if len(p.strip(" ，,、")) >= min_chars)
    return list(dict.fromkeys(out))


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    end = max(cut.rfind(p) for p in "。；;")
    return cut[: end + 1] if end > MAX_CHARS // 2 else cut


def indexed_text(text: str) -> str:
    """A passage as the index embeds it (whitespace collapsed, a long text cut at a sentence end):
    the key under which its vector is cached."""
    return _cut(text)


def _regions(store) -> dict[str, list[str]]:
    return {r: [c["label"] for c in chain] for r, chain in region_chains(store).items()}


def _units(store, chains) -> dict[str, tuple[str, list[str]]]:
    return {r["u"]: (r["l"], chains.get(r["r"], [])) for r in store.select(
        "SELECT ?u ?l ?r WHERE { ?u a bkg:BudgetUnit ; rdfs:label ?l ; bkg:region ?r }")}


def load_items(store) -> list[Item]:
    chains = _regions(store)
    units = _units(store, chains)
    items: list[Item] = []
    owners: dict[str, dict] = {}

    def base(iri, kind, name, unit, year, amount, file, start, end) -> Item:
        ulabel, regs = units.get(unit, (None, []))
        return Item(iri=iri, kind=kind, name=name, unit=ulabel, unit_iri=unit, town=regs[0] if regs else None,
                    regions=regs, year=int(year) if year else None, amount=amount, document=file,
                    lines=[int(start), int(end)] if start else None)

    projects: dict[str, Item] = {}
    for r in store.select("""
        SELECT ?p ?name ?unit ?year ?amount ?overall ?annual ?summary ?basis ?type ?file ?start ?end WHERE {
          ?p a bkg:Project ; rdfs:label ?name ; bkg:budgetUnit ?unit ; bkg:sourceDocument/bkg:sourceFile ?file ;
             bkg:lineStart ?start ; bkg:lineEnd ?end .
          OPTIONAL { ?p bkg:fiscalYear ?year } OPTIONAL { ?p bkg:amount ?amount }
          OPTIONAL { ?p bkg:overallGoal ?overall } OPTIONAL { ?p bkg:annualGoal ?annual }
          OPTIONAL { ?p bkg:summary ?summary } OPTIONAL { ?p bkg:basis ?basis } OPTIONAL { ?p bkg:projectType ?type } }
        ORDER BY ?p"""):
        it = base(r["p"], "project", r["name"], r["unit"], r["year"], r["amount"], r["file"], r["start"], r["end"])
        it.fields.append(("name", r["name"]))
        goals = [g for g in (r["overall"], r["annual"]) if g]
        for g in dict.fromkeys(goals):
            it.fields.append(("goal", _cut(g)))
        if r["summary"] and r["summary"] not in goals:
            it.fields.append(("summary", _cut(r["summary"])))
        if r["basis"] and r["basis"] not in goals and r["basis"] != r["summary"]:
            it.fields.append(("basis", _cut(r["basis"])))
        long_texts = [t for f, t in it.fields if f in ("goal", "summary", "basis")]
        for c in dict.fromkeys(c for t in long_texts for c in clauses(t)):
            if ("goal", c) not in it.fields and ("summary", c) not in it.fields:
                it.fields.append(("clause", c))
        it.extra = {"type": r["type"], "goal": r["annual"] or r["overall"]}
        projects[it.iri] = it
        owners[it.iri] = {"iri": it.iri, "name": it.name, "item": it}
    for r in store.select("""
        SELECT ?t ?label ?unit ?year ?file ?start ?end WHERE { ?t a bkg:DepartmentTarget ; rdfs:label ?label ;
          bkg:budgetUnit ?unit ; bkg:sourceDocument/bkg:sourceFile ?file ; bkg:lineStart ?start ; bkg:lineEnd ?end .
          OPTIONAL { ?t bkg:fiscalYear ?year } }"""):
        owners[r["t"]] = {"iri": r["t"], "name": r["label"],
                          "item": base(r["t"], "department", r["label"], r["unit"], r["year"], None, r["file"], r["start"], r["end"])}
    # names other tables give a project: 重点项目 list entries, narrative descriptions
    for r in store.select("SELECT ?p ?name WHERE { ?x bkg:refersTo ?p ; rdfs:label ?name }"):
        p = projects.get(r["p"])
        if p is not None and r["name"] != p.name and ("alias", r["name"]) not in p.fields:
            p.fields.append(("alias", r["name"]))
    for r in store.select("""
        SELECT ?i ?text ?owner ?l1 ?l2 ?annual ?period ?order ?file ?start ?end WHERE {
          ?owner bkg:hasIndicator ?i . ?i rdfs:label ?text ; bkg:level1/skos:prefLabel ?l1 ; bkg:level2/skos:prefLabel ?l2 ;
             bkg:order ?order ; bkg:sourceDocument/bkg:sourceFile ?file ; bkg:lineStart ?start ; bkg:lineEnd ?end .
          OPTIONAL { ?i bkg:annualTarget ?annual } OPTIONAL { ?i bkg:periodTarget ?period } }
        ORDER BY ?owner ?order"""):
        owner = owners.get(r["owner"])
        if owner is None:
            continue
        o = owner["item"]
        it = Item(iri=r["i"], kind="indicator", name=r["text"], unit=o.unit, unit_iri=o.unit_iri, town=o.town,
                  regions=o.regions, year=o.year, amount=None, project={"iri": owner["iri"], "name": owner["name"]},
                  document=r["file"], lines=[int(r["start"]), int(r["end"])])
        # the 二级 level says what kind of measure the text is (时效指标: a time; 质量指标: a rate)
        it.fields.append(("indicator", f"{r['l2']}：{r['text']}"))
        it.extra = {"level1": r["l1"], "level2": r["l2"], "annual_target": r["annual"], "period_target": r["period"]}
        items.append(it)
        if o.kind == "project" and ("indicator", r["text"]) not in o.fields:
            o.fields.append(("indicator", r["text"]))
    for r in store.select("""
        SELECT ?k ?name ?content ?outcome ?amount ?opt ?unit ?year ?t ?tl ?file ?start ?end WHERE {
          ?t bkg:hasKeyTask ?k ; rdfs:label ?tl . ?k rdfs:label ?name ; bkg:budgetUnit ?unit ; bkg:optional ?opt ;
             bkg:sourceDocument/bkg:sourceFile ?file ; bkg:lineStart ?start ; bkg:lineEnd ?end .
          OPTIONAL { ?k bkg:content ?content } OPTIONAL { ?k bkg:expectedOutcome ?outcome }
          OPTIONAL { ?k bkg:amount ?amount } OPTIONAL { ?k bkg:fiscalYear ?year } }
        ORDER BY ?k"""):
        it = base(r["k"], "task", r["name"], r["unit"], r["year"], r["amount"], r["file"], r["start"], r["end"])
        it.project = {"iri": r["t"], "name": r["tl"]}
        it.fields.append(("name", r["name"]))
        if r["content"]:
            it.fields.append(("content", _cut(r["content"])))
        if r["outcome"]:
            it.fields.append(("outcome", _cut(r["outcome"])))
        for c in dict.fromkeys(c for t in (r["content"], r["outcome"]) if t for c in clauses(t)):
            it.fields.append(("clause", c))
        it.extra = {"optional": r["opt"] == "true", "content": r["content"], "outcome": r["outcome"]}
        items.append(it)
    # budget lines come last: the items before them keep their order (ties rank by item order)
    return list(projects.values()) + items + _lines(store, base)


_SCHEME_NAMES = {"https://w3id.org/budgetkg/def#FunctionalClassification": "functional",
                 "https://w3id.org/budgetkg/def#EconomicClassification": "economic"}


def _lines(store, base) -> list[Item]:
    """Coded lines of budget tables: name as printed, code, amount (元), table, document."""
    lines: dict[str, Item] = {}
    for r in store.select("""
        SELECT ?l ?printed ?c ?notation ?pref ?scheme ?level ?flow ?unit ?year ?amount ?table ?tl ?file ?start ?end WHERE {
          ?l a bkg:BudgetLine ; bkg:classification ?c ; bkg:budgetUnit ?unit ; bkg:inTable ?table ;
             bkg:sourceDocument/bkg:sourceFile ?file ; bkg:lineStart ?start ; bkg:lineEnd ?end .
          ?c skos:notation ?notation .
          OPTIONAL { ?c skos:prefLabel ?pref } OPTIONAL { ?c skos:inScheme ?scheme } OPTIONAL { ?table rdfs:label ?tl }
          OPTIONAL { ?l bkg:printedName ?printed } OPTIONAL { ?l bkg:codeLevel ?level } OPTIONAL { ?l bkg:flow ?flow }
          OPTIONAL { ?l bkg:fiscalYear ?year } OPTIONAL { ?l bkg:amount ?amount } }
        ORDER BY ?l ?notation"""):
        it = lines.get(r["l"])
        if it is None:
            name = r["printed"] or r["pref"] or r["notation"]
            it = lines[r["l"]] = base(r["l"], "line", name, r["unit"], r["year"], r["amount"], r["file"], r["start"], r["end"])
            it.fields.append(("line", name))
            it.extra = {"code": r["notation"], "scheme": _SCHEME_NAMES.get(r["scheme"], r["scheme"]), "level": r["level"],
                        "flow": r["flow"], "table": {"iri": r["table"], "name": r["tl"]}, "codes": []}
        if r["pref"] and ("line", r["pref"]) not in it.fields:
            it.fields.append(("line", r["pref"]))
        if r["c"] not in it.extra["codes"]:
            it.extra["codes"].append(r["c"])
    return list(lines.values())
