"""Projects (项目), department targets (部门整体支出绩效目标) and their key tasks, as the pages show them."""
from __future__ import annotations

from collections import OrderedDict

from api.readmodel.graph import RDFS_LABEL, UNORDERED, Directory, document_ref, indicators_of, one, provenance, typed_props
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


def project_detail(store, d: Directory, iri: str) -> dict | None:
    """A project (项目绩效目标表) as its page shows it: unit, amounts, funds, goals, indicators, source, and
    the entries of 重点项目 lists and 项目经费情况说明 that refer to it."""
    p = typed_props(store, iri, "Project")
    if p is None:
        return None
    unit = d.unit(one(p, "budgetUnit"))
    mentions = []
    for r in store.select(f"""
        SELECT ?e ?t ?l ?a ?ap ?au ?note ?doc ?ls WHERE {{
          ?e bkg:refersTo {iri_term(iri)} ; a ?t .
          FILTER(?t IN (bkg:KeyProjectEntry, bkg:ProjectDescription))
          OPTIONAL {{ ?e rdfs:label ?l }} OPTIONAL {{ ?e bkg:amount ?a }} OPTIONAL {{ ?e bkg:amountPrinted ?ap }}
          OPTIONAL {{ ?e bkg:amountUnit ?au }} OPTIONAL {{ ?e bkg:matchNote ?note }}
          OPTIONAL {{ ?e bkg:sourceDocument ?doc }} OPTIONAL {{ ?e bkg:lineStart ?ls }}
        }}"""):
        mentions.append({"kind": "重点项目条目" if r["t"].endswith("KeyProjectEntry") else "项目经费情况说明",
                         "label": r["l"], "amount": r["a"], "printed": r["ap"], "unit": r["au"],
                         "note": r["note"], "line": r["ls"], "document": document_ref(store, r["doc"])})
    return {
        "iri": iri, "id": local_id(iri), "name": one(p, RDFS_LABEL) or local_id(iri), "unit": unit,
        "year": one(p, "fiscalYear"), "type": one(p, "projectType"), "level": one(p, "projectLevel"),
        "department": one(p, "competentDepartment"), "implementing": one(p, "implementingUnit"),
        "period": one(p, "periodText") or year_span(one(p, "startYear"), one(p, "endYear"), one(p, "openEnded")),
        "amount": one(p, "amount"), "amount_printed": one(p, "amountPrinted"), "amount_unit": one(p, "amountUnit"),
        "funds": [(label, one(p, key)) for key, label in (("totalFunds", "项目资金总额"),
                                                          ("currentYearAppropriation", "当年财政拨款"),
                                                          ("carryOver", "上年结转资金"), ("otherFunds", "其他资金"))
                  if one(p, key)],
        "basis": one(p, "basis"), "summary": one(p, "summary"),
        "overall_goal": one(p, "overallGoal"), "annual_goal": one(p, "annualGoal"),
        "indicators": indicators_of(store, iri), "source": provenance(store, p), "mentions": mentions,
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
