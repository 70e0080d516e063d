"""Consistency checks (勾稽) researchers trust a figure by, per document, from the store.

- a coded table's printed total (合计) equals the sum of its 类 lines;
- within a table, a 类 equals the sum of its 款, and a 款 the sum of its 项 (when printed);
- the summary table's 支出总计 (表1/表4) equals the expenditure tables' totals (表3/表5);
- the performance tables' project amounts agree with the 重点项目 list and, summed by 项目类型,
  with the project-expenditure table's categories (表12).

Tolerance 0.5 万元 (5,000 元): 万元 tables round to 0.01 万元. Discrepancies are reported with the
lines involved, never hidden.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .store import GraphStore
from .text import key

TOLERANCE = Decimal(5000)


@dataclass
class Finding:
    document: str
    check: str
    subject: str
    expected: Decimal
    actual: Decimal
    lines: list[int] = field(default_factory=list)

    @property
    def diff(self) -> Decimal:
        return self.actual - self.expected

    @property
    def ok(self) -> bool:
        return abs(self.diff) <= TOLERANCE

    def describe(self) -> str:
        where = f" (lines {', '.join(map(str, sorted(set(self.lines))))})" if self.lines else ""
        return (f"{self.check}: {self.subject}: computed {_yuan(self.actual)} vs printed {_yuan(self.expected)}"
                f"{'' if self.ok else f', differs by {_yuan(self.diff)}'}{where}")

    def as_dict(self) -> dict:
        return {"document": self.document, "check": self.check, "subject": self.subject, "ok": self.ok,
                "expected": str(self.expected), "actual": str(self.actual), "diff": str(self.diff),
                "lines": sorted(set(self.lines))}


def _yuan(v: Decimal) -> str:
    return f"{v:,.2f} 元"


def _dec(v: object) -> Decimal:
    return Decimal(str(v))


def _norm(label: str) -> str:
    return re.sub(r"[()（）\s]", "", key(label))


def run_checks(store: GraphStore) -> list[Finding]:
    docs = {r["d"]: r["label"] for r in store.select(
        "SELECT ?d ?label WHERE { ?d a bkg:Document ; rdfs:label ?label }")}
    findings: list[Finding] = []
    for d, label in sorted(docs.items(), key=lambda x: x[1]):
        findings.extend(_table_checks(store, d, label))
        findings.extend(_project_checks(store, d, label))
    return findings


def _table_checks(store: GraphStore, d: str, label: str) -> list[Finding]:
    out: list[Finding] = []
    rows = list(store.select(f"""
        SELECT ?t ?title ?total ?flow ?fund ?etype ?code ?amount ?line WHERE {{
          GRAPH <{d}> {{
            ?t a bkg:BudgetTable ; rdfs:label ?title ; bkg:flow ?flow ; bkg:fundScope ?fund ; bkg:expenditureType ?etype .
            OPTIONAL {{ ?t bkg:printedTotal ?total }}
          }}
          OPTIONAL {{ GRAPH <{d}> {{ ?l qb:dataSet ?t ; bkg:classification ?c ; bkg:amount ?amount ; bkg:lineStart ?line . }}
                     ?c skos:notation ?code }}
        }}"""))
    tables: dict[str, dict] = {}
    for r in rows:
        t = tables.setdefault(r["t"], {"title": r["title"], "total": r["total"], "flow": r["flow"],
                                       "fund": r["fund"], "etype": r["etype"], "lines": {}})
        if r["code"] is not None:
            # a table split over pages repeats no code; keep the first printing
            t["lines"].setdefault(r["code"], (_dec(r["amount"]), int(r["line"])))
    for t in tables.values():
        lines = t["lines"]
        if not lines:
            continue
        title = t["title"]
        # the most general level printed (类, or 项 alone when a table lists only 项)
        top_len = min(len(c) for c in lines)
        tops = {c: v for c, v in lines.items() if len(c) == top_len}
        if t["total"] is not None and tops:
            out.append(Finding(label, "表合计 = Σ" + {3: "类", 5: "款", 7: "项"}[top_len], title, _dec(t["total"]), sum(v[0] for v in tops.values()),
                               [v[1] for v in tops.values()]))
        for parent, (amount, no) in sorted(lines.items()):
            kids = {c: v for c, v in lines.items() if len(c) == len(parent) + 2 and c.startswith(parent)}
            if kids:
                level = "类 = Σ款" if len(parent) == 3 else "款 = Σ项"
                out.append(Finding(label, level, f"{title} [{parent}]", amount, sum(v[0] for v in kids.values()),
                                   [no] + [v[1] for v in kids.values()]))
    # within a line: 合计 = 基本支出 + 项目支出 (or 人员经费 + 公用经费)
    for r in store.select(f"""
        SELECT ?title ?code ?line (GROUP_CONCAT(CONCAT(STR(?o), "=", ?h, "=", STR(?a)); separator="|") AS ?cols) WHERE {{
          GRAPH <{d}> {{ ?l qb:dataSet ?t ; bkg:classification ?c ; bkg:lineStart ?line ; bkg:columnAmount ?ca .
                         ?t rdfs:label ?title . ?ca rdfs:label ?h ; bkg:amount ?a ; bkg:order ?o . }}
          ?c skos:notation ?code }} GROUP BY ?title ?code ?line"""):
        cols = sorted((int(o), h, _dec(a)) for o, h, a in (x.split("=", 2) for x in r["cols"].split("|")))
        # a composed heading (一般公共预算支出›基本支出) is checked by its last part
        named = {_norm(h).split("›")[-1].removeprefix("其中:"): a for _, h, a in cols}
        for a, b in (("基本支出", "项目支出"), ("人员经费", "公用经费")):
            if a in named and b in named:
                out.append(Finding(label, f"合计 = {a} + {b}", f"{r['title']} [{r['code']}]", cols[0][2],
                                   named[a] + named[b], [int(r["line"])]))
    # 收支总表: 收入总计 = 支出总计, 本年收入合计 = 本年支出合计
    summary_rows = list(store.select(f"""
        SELECT ?title ?rlabel ?amount ?line WHERE {{ GRAPH <{d}> {{
          ?t a bkg:BudgetTable ; rdfs:label ?title ; bkg:summaryRow ?r ; bkg:lineStart ?line .
          ?r rdfs:label ?rlabel ; bkg:amount ?amount . }} }}"""))
    by_title: dict[str, dict[str, tuple[Decimal, int]]] = defaultdict(dict)
    for r in summary_rows:
        by_title[r["title"]].setdefault(_norm(r["rlabel"]), (_dec(r["amount"]), int(r["line"])))
    for title, rows_ in by_title.items():
        for a, b in (("收入总计", "支出总计"), ("本年收入合计", "本年支出合计")):
            if a in rows_ and b in rows_:
                out.append(Finding(label, f"{a} = {b}", title, rows_[a][0], rows_[b][0], [rows_[a][1], rows_[b][1]]))
    # the summary table's 支出总计 against each expenditure table's total (all funds, or 一般公共预算 only
    # when the document has no other funds)
    grand = [(r["title"], _dec(r["amount"]), int(r["line"])) for r in summary_rows if _norm(r["rlabel"]) in ("支出总计", "支出合计")]
    if grand:
        s_title, s_amount, s_line = grand[0]
        for t in tables.values():
            if t["flow"] == "expenditure" and t["etype"] == "all" and t["fund"] == "all" and t["total"] is not None:
                out.append(Finding(label, "收支总表 支出总计 = 支出表合计", f"{s_title} vs {t['title']}",
                                   s_amount, _dec(t["total"]), [s_line]))
    return out


def _project_checks(store: GraphStore, d: str, label: str) -> list[Finding]:
    out: list[Finding] = []
    for r in store.select(f"""
        SELECT ?name ?amount ?pname ?pamount ?line ?pline WHERE {{ GRAPH <{d}> {{
          ?e a bkg:KeyProjectEntry ; rdfs:label ?name ; bkg:amount ?amount ; bkg:lineStart ?line ; bkg:refersTo ?p .
          ?p rdfs:label ?pname ; bkg:amount ?pamount ; bkg:lineStart ?pline . }} }}"""):
        out.append(Finding(label, "重点项目 = 绩效目标表", f"{r['name']} / {r['pname']}", _dec(r["amount"]),
                           _dec(r["pamount"]), [int(r["line"]), int(r["pline"])]))
    for r in store.select(f"""
        SELECT ?name ?line WHERE {{ GRAPH <{d}> {{
          ?e a bkg:KeyProjectEntry ; rdfs:label ?name ; bkg:lineStart ?line .
          FILTER NOT EXISTS {{ ?e bkg:refersTo ?p }} }} }}"""):
        out.append(Finding(label, "重点项目 has a performance table", r["name"], Decimal(1), Decimal(0), [int(r["line"])]))
    by_type: dict[str, Decimal] = defaultdict(Decimal)
    type_lines: dict[str, list[int]] = defaultdict(list)
    for r in store.select(f"""
        SELECT ?type ?amount ?line WHERE {{ GRAPH <{d}> {{
          ?p a bkg:Project ; bkg:projectType ?type ; bkg:amount ?amount ; bkg:lineStart ?line . }} }}"""):
        by_type[_norm(r["type"])] += _dec(r["amount"])
        type_lines[_norm(r["type"])].append(int(r["line"]))
    if by_type:
        for r in store.select(f"""
            SELECT ?title ?rlabel ?amount ?line WHERE {{ GRAPH <{d}> {{
              ?t a bkg:BudgetTable ; rdfs:label ?title ; bkg:summaryRow ?r ; bkg:lineStart ?line .
              ?r rdfs:label ?rlabel ; bkg:amount ?amount . }} }}"""):
            k = _norm(r["rlabel"])
            if k in by_type:
                out.append(Finding(label, "项目类型合计 = 项目支出表", f"{r['rlabel']} ({r['title']})",
                                   _dec(r["amount"]), by_type[k], [int(r["line"])] + type_lines[k]))
    return out
