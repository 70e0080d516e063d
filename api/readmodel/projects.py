"""Projects (项目), department targets (部门整体支出绩效目标) and their key tasks, as the pages show them."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from api.readmodel.graph import (BKG, RDFS_LABEL, UNORDERED, Directory, UnitRef, documents, indicators_of, one,
                                 typed_props, unknown_document)
from api.readmodel.ids import iri_term, local_id

#: the end year tables print for a long-term (长期) project
OPEN_ENDED_YEAR = "2099"


def year_span(start, end, open_ended) -> str:
    if not start and not end:
        return ""
    if str(open_ended).lower() == "true" or str(end) == OPEN_ENDED_YEAR:
        return f"{start}年起（长期）" if start else "长期"
    if start and end and start != end:
        return f"{start}–{end}年"
    return f"{start or end}年"


#: what refers to a project, as the project page names it
MENTION_KINDS = {BKG + "KeyProjectEntry": "重点项目条目", BKG + "ProjectDescription": "项目经费情况说明"}


@dataclass
class ProjectRecord:
    """A project (项目绩效目标表) read once — its properties, unit, indicators, source document and the
    entries that refer to it (bkg:refersTo) — which the project page and ``/api/projects`` both render."""

    iri: str
    props: dict[str, list[str]]
    unit: UnitRef | None
    indicators: list[dict]
    references: list[dict]  # one row per (entry, bkg: type): iri, type, name, note, amount, printed, amount_unit, doc, line
    documents: dict[str, dict]  # the source document and the references' documents, by IRI

    def one(self, key: str) -> str | None:
        return one(self.props, key)

    def document(self, iri: str | None) -> dict | None:
        return None if not iri else self.documents.get(iri) or unknown_document(iri)


def read_project(store, d: Directory, iri: str) -> ProjectRecord | None:
    """The :class:`ProjectRecord` of ``iri`` in four queries; None when it is not a project."""
    p = typed_props(store, iri, "Project")
    if p is None:
        return None
    refs = [{"iri": r["x"], "type": r["t"], "name": r["name"], "note": r["note"], "amount": r["amount"],
             "printed": r["printed"], "amount_unit": r["au"], "doc": r["doc"], "line": r["ls"]}
            for r in store.select(f"""SELECT ?x ?t ?name ?note ?amount ?printed ?au ?doc ?ls WHERE {{
                ?x bkg:refersTo {iri_term(iri)} .
                OPTIONAL {{ ?x a ?t FILTER(STRSTARTS(STR(?t), STR(bkg:))) }} OPTIONAL {{ ?x rdfs:label ?name }}
                OPTIONAL {{ ?x bkg:matchNote ?note }} OPTIONAL {{ ?x bkg:amount ?amount }}
                OPTIONAL {{ ?x bkg:amountPrinted ?printed }} OPTIONAL {{ ?x bkg:amountUnit ?au }}
                OPTIONAL {{ ?x bkg:sourceDocument ?doc }} OPTIONAL {{ ?x bkg:lineStart ?ls }} }}""")]
    wanted = {x for x in [one(p, "sourceDocument"), *(r["doc"] for r in refs)] if x}
    docs = {x["iri"]: x for x in documents(store, f"VALUES ?d {{ {' '.join(iri_term(x) for x in sorted(wanted))} }}")} \
        if wanted else {}
    return ProjectRecord(iri, p, d.unit(one(p, "budgetUnit")), indicators_of(store, iri), refs, docs)


def project_detail(store, d: Directory, iri: str) -> dict | None:
    """A project as its page shows it: unit, amounts, funds, goals, indicators, source, and the entries of
    重点项目 lists and 项目经费情况说明 that refer to it."""
    rec = read_project(store, d, iri)
    if rec is None:
        return None
    one_ = rec.one
    mentions = [{"kind": MENTION_KINDS[r["type"]], "label": r["name"], "amount": r["amount"], "printed": r["printed"],
                 "unit": r["amount_unit"], "note": r["note"], "line": r["line"], "document": rec.document(r["doc"])}
                for r in rec.references if r["type"] in MENTION_KINDS]
    return {
        "iri": iri, "id": local_id(iri), "name": one_(RDFS_LABEL) or local_id(iri), "unit": rec.unit,
        "year": one_("fiscalYear"), "type": one_("projectType"), "level": one_("projectLevel"),
        "department": one_("competentDepartment"), "implementing": one_("implementingUnit"),
        "period": one_("periodText") or year_span(one_("startYear"), one_("endYear"), one_("openEnded")),
        "amount": one_("amount"), "amount_printed": one_("amountPrinted"), "amount_unit": one_("amountUnit"),
        "funds": [(label, one_(key)) for key, label in (("totalFunds", "项目资金总额"),
                                                        ("currentYearAppropriation", "当年财政拨款"),
                                                        ("carryOver", "上年结转资金"), ("otherFunds", "其他资金"))
                  if one_(key)],
        "basis": one_("basis"), "summary": one_("summary"),
        "overall_goal": one_("overallGoal"), "annual_goal": one_("annualGoal"),
        "indicators": rec.indicators, "mentions": mentions,
        "source": {"document": rec.document(one_("sourceDocument")), "start": one_("lineStart"), "end": one_("lineEnd")},
    }


def owner_of(store, iri: str, prop: str) -> str | None:
    for r in store.select(f"SELECT ?o WHERE {{ ?o bkg:{prop} {iri_term(iri)} }} LIMIT 1"):
        return r["o"]
    return None


def tasks_of(store, target: str) -> list[dict]:
    """The 年度重点工作任务 of a department target, in printed order."""
    out: dict[str, dict] = OrderedDict()
    for r in store.select(f"""
        SELECT ?t ?l ?c ?a ?o ?opt ?ls WHERE {{
          {{ {iri_term(target)} bkg:hasKeyTask ?t }} UNION {{ ?t dcterms:isPartOf {iri_term(target)} ; a bkg:KeyTask }}
          ?t rdfs:label ?l .
          OPTIONAL {{ ?t bkg:content ?c }} OPTIONAL {{ ?t bkg:amount ?a }} OPTIONAL {{ ?t bkg:expectedOutcome ?o }}
          OPTIONAL {{ ?t bkg:optional ?opt }} OPTIONAL {{ ?t bkg:lineStart ?ls }}
        }}"""):
        out.setdefault(r["t"], {"iri": r["t"], "id": local_id(r["t"]), "name": r["l"], "content": r["c"],
                                "amount": r["a"], "outcome": r["o"], "optional": r["opt"] == "true",
                                "line": int(r["ls"]) if r["ls"] else UNORDERED})
    return sorted(out.values(), key=lambda t: t["line"])
