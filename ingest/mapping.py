"""Typed records → RDF.

Everything read from one document goes into that document's named graph (its IRI is the
document's IRI). Entities that many documents share — budget units, regions, classification
concepts, indicator-level concepts the standard does not know — go into one *shared* graph, so that
the union of all graphs holds each of them once. Instance IRIs are minted from content (unit, year,
name …), so re-reading a document yields the same quads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from ontology import (
    BKG,
    CURRENCY_CNY,
    ECONOMIC_SCHEME,
    FUNCTIONAL_SCHEME,
    ID,
    LEVEL_SCHEME,
    OBEU_ATTRIBUTE,
    OBEU_DIMENSION,
    OBEU_MEASURE,
    ORG,
    QB,
    SCHEMA,
    digest,
    mint,
)

from .identity import project_key, unit_display_name, unit_key
from .key_projects import link, match_key
from .errors import display_path
from .records import (
    ACTUAL,
    ADJUSTED,
    BUDGET,
    BudgetTable,
    DepartmentTargetTable,
    Indicator,
    LevelRef,
    Money,
    ParsedDocument,
    ProjectTargetTable,
    SelfEvaluation,
    Span,
    SummaryRow,
    Target,
)

_ROLES = {BUDGET: BKG.BudgetedAmount, ADJUSTED: BKG.AdjustedBudgetAmount, ACTUAL: BKG.ActualAmount}
_ROLE_AMOUNT = {BUDGET: BKG.budgetedAmount, ADJUSTED: BKG.adjustedBudgetAmount, ACTUAL: BKG.actualAmount}

SHARED_GRAPH = ID["graph/shared"]
#: links between documents the store computes when they are committed: a department's document and
#: its units' (bkg:DocumentInclusion), the same project in different years (bkg:ProjectYearLink)
LINKS_GRAPH = ID["graph/links"]
ONTOLOGY_GRAPH = URIRef("https://w3id.org/budgetkg/def")
OPEN_ENDED_YEAR = 2099


def document_iri(doc: ParsedDocument) -> URIRef:
    """A document is identified by its unit, year and kind: a corrected re-publication replaces it."""
    return mint("doc", doc.unit_name, doc.year, doc.kind)


def unit_iri(name: str) -> URIRef:
    """One budget unit however a document prints its name: （本级） and spaces do not make another unit,
    so the same unit in different years (and its 部门预算 beside its 单位预算) is one IRI."""
    return mint("unit", unit_key(name))


#: 类 / 款 / 项 by the length of a classification code (支出功能分类: 3 / 5 / 7 digits)
CODE_LEVELS = {3: "类", 5: "款", 7: "项"}
_CN_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九", start=0)}


def table_ordinal(number: str | None) -> int | None:
    """表号 as a number: ``3``, ``03``, ``三``, ``十二`` → 3, 3, 3, 12 (tables are numbered either way)."""
    if not number:
        return None
    m = re.search(r"\d+", number)
    if m:
        return int(m.group())
    cn = re.search(r"[一二三四五六七八九十]+", number)
    if not cn:
        return None
    text = cn.group()
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(text)


def detail_flags(lines: list) -> list[bool]:
    """Whether each coded line is a detail row (明细行) of its table: no finer line of the same table
    sums into it. A finer line has a longer code of the same scheme starting with this one's; on a
    cross-classified row (部门预算 3xx beside 政府预算 5xx) its second code must fall under this one's too.
    Summing the detail rows of a table gives its total once (类, 款 and 项 all carry amounts)."""
    flags = []
    for a in lines:
        finer = any(b is not a and b.scheme == a.scheme and len(b.code) > len(a.code) and b.code.startswith(a.code)
                    and (a.cross_code is None or b.cross_code is None or b.cross_code.startswith(a.cross_code))
                    for b in lines)
        flags.append(not finer)
    return flags


def concept_iri(scheme: str, code: str) -> URIRef:
    return ID[f"code/{scheme}/{code}"]


def level_iri(ref: LevelRef) -> URIRef:
    return URIRef(ref.concept) if ref.concept else ID[f"level/{ref.depth}-{digest(ref.label, length=12)}"]


def region_iris(doc: ParsedDocument) -> list[URIRef]:
    out: list[URIRef] = []
    parent_code = ""
    for name, level, adcode in doc.region.chain:
        out.append(ID[f"region/{adcode}"] if adcode else mint("region", parent_code, name))
        parent_code = adcode or parent_code
    return out


@dataclass
class Mapped:
    """The quads of one document: its own graph and what it adds to the shared graph."""

    graph_iri: URIRef
    graph: Graph
    shared: Graph
    #: classification codes printed, with the names printed for them: (scheme, code) → names
    code_names: dict[tuple[str, str], list[str]] = field(default_factory=dict)


class _Mapper:
    def __init__(self, doc: ParsedDocument):
        self.doc = doc
        self.g = Graph()
        self.shared = Graph()
        self.d = document_iri(doc)
        self.unit = unit_iri(doc.unit_name)
        self.code_names: dict[tuple[str, str], list[str]] = {}
        self._minted: dict[URIRef, int] = {}

    # -- helpers ---------------------------------------------------------------------------------
    def add(self, s, p, o) -> None:
        if o is None:
            return
        if not isinstance(o, (URIRef, Literal)):
            o = Literal(o)
        self.g.add((s, p, o))

    def unique(self, iri: URIRef) -> URIRef:
        """Same content twice in one document (a repeated table) gets a numbered IRI, never a merge."""
        n = self._minted.get(iri, 0)
        self._minted[iri] = n + 1
        return iri if n == 0 else URIRef(f"{iri}-{n + 1}")

    def provenance(self, s: URIRef, span: Span) -> None:
        self.add(s, BKG.sourceDocument, self.d)
        self.add(s, PROV.wasDerivedFrom, self.d)
        self.add(s, BKG.lineStart, Literal(span.start, datatype=XSD.integer))
        self.add(s, BKG.lineEnd, Literal(span.end, datatype=XSD.integer))

    def money(self, s: URIRef, m: Money | None, prop=BKG.amount) -> None:
        if m is None:
            return
        self.add(s, prop, Literal(m.yuan, datatype=XSD.decimal))
        if prop == BKG.amount:
            self.add(s, BKG.amountPrinted, Literal(m.printed))
            self.add(s, BKG.amountUnit, Literal(m.unit))
            self.add(s, OBEU_ATTRIBUTE.currency, CURRENCY_CNY)

    def year(self, s: URIRef, year: int | None) -> None:
        if year is not None:
            self.add(s, BKG.fiscalYear, Literal(year, datatype=XSD.integer))

    # -- shared entities ---------------------------------------------------------------------------
    def shared_entities(self) -> None:
        sh = self.shared
        regions = region_iris(self.doc)
        parent = None
        for iri, (name, level, adcode) in zip(regions, self.doc.region.chain):
            sh.add((iri, RDF.type, BKG.Region))
            sh.add((iri, RDFS.label, Literal(name)))
            sh.add((iri, BKG.adminLevel, Literal(level)))
            if adcode:
                sh.add((iri, BKG.adcode, Literal(adcode)))
            if parent is not None:
                sh.add((iri, BKG.partOf, parent))
            parent = iri
        sh.add((self.unit, RDF.type, BKG.BudgetUnit))
        sh.add((self.unit, RDF.type, ORG.Organization))
        sh.add((self.unit, RDFS.label, Literal(unit_display_name(self.doc.unit_name))))
        sh.add((self.unit, BKG.region, regions[-1]))

    def level(self, ref: LevelRef, context: LevelRef | None = None) -> URIRef:
        iri = level_iri(ref)
        if ref.concept is None:
            sh = self.shared
            sh.add((iri, RDF.type, SKOS.Concept))
            sh.add((iri, SKOS.prefLabel, Literal(ref.label)))
            sh.add((iri, SKOS.inScheme, LEVEL_SCHEME))
            sh.add((iri, BKG.standard, Literal(False)))
            sh.add((iri, SKOS.notation, Literal(f"L{ref.depth}-x-{digest(ref.label, length=12)}")))
            if ref.depth == 2 and context is not None:
                sh.add((iri, SKOS.broader, level_iri(context)))
        return iri

    # -- document ---------------------------------------------------------------------------------
    def document(self) -> None:
        doc, d = self.doc, self.d
        self.add(d, RDF.type, BKG.Document)
        self.add(d, RDF.type, PROV.Entity)
        year = f"{doc.year}年" if doc.year else ""
        self.add(d, RDFS.label, Literal(f"{doc.unit_name} {year}{doc.kind}"))
        self.add(d, DCTERMS.title, Literal(doc.title))
        self.add(d, BKG.sourceFile, Literal(display_path(Path(doc.path).name)))
        self.add(d, BKG.sha256, Literal(doc.sha256))
        self.add(d, BKG.encoding, Literal(doc.encoding))
        self.add(d, BKG.documentKind, Literal(doc.kind))
        self.add(d, BKG.budgetUnit, self.unit)
        self.add(d, BKG.lineEnd, Literal(doc.line_count, datatype=XSD.integer))
        self.year(d, doc.year)
        # whose money the document counts, and what the store needs to link it to its department's
        # document (bkg:includedIn) and its projects to other years'
        self.add(d, BKG.stage, Literal("决算" if "决算" in doc.kind or "自评" in doc.kind else "预算"))
        self.add(d, BKG.printedUnitName, Literal(doc.unit_name))
        self.add(d, BKG.unitKey, Literal(unit_key(doc.unit_name)))
        if doc.scope:
            self.add(d, BKG.documentScope, BKG[doc.scope])
            self.add(d, BKG.scopeBasis, doc.scope_basis)
        for name in doc.listed_units:
            self.add(d, BKG.listsUnit, Literal(name))
            self.add(d, BKG.listsUnitKey, Literal(unit_key(name)))
        from .parse import PARSER_VERSION

        self.add(d, BKG.parserVersion, Literal(PARSER_VERSION))

    def indicators(self, owner: URIRef, indicators: list[Indicator]) -> None:
        for ind in indicators:
            i = self.unique(mint("indicator", owner, ind.level1.label, ind.level2.label, ind.text))
            self.add(owner, BKG.hasIndicator, i)
            self.add(i, BKG.indicatorOf, owner)
            self.add(i, RDF.type, BKG.PerformanceIndicator)
            self.add(i, RDFS.label, Literal(ind.text))
            self.add(i, BKG.level1, self.level(ind.level1))
            self.add(i, BKG.level2, self.level(ind.level2, ind.level1))
            self.add(i, BKG.order, Literal(ind.order, datatype=XSD.integer))
            self.target(i, ind.annual, BKG.annualTarget, BKG.annualTargetValue, "annual")
            self.target(i, ind.period, BKG.periodTarget, BKG.periodTargetValue, "period")
            self.target(i, ind.actual, BKG.actualValue, BKG.actualValueParsed, "actual")
            # the columns a template prints beside the target, as printed (scores as numbers)
            self.add(i, BKG.indicatorScore, _number_or_text(ind.score))
            self.add(i, BKG.selfScore, _number_or_text(ind.self_score))
            self.add(i, BKG.indicatorWeight, _number_or_text(ind.weight))
            self.add(i, BKG.deviationReason, ind.deviation)
            self.add(i, BKG.scoringStandard, ind.standard)
            self.add(i, BKG.indicatorExplanation, ind.explanation)
            self.add(i, BKG.indicatorDirection, ind.direction)
            self.add(i, BKG.indicatorNature, ind.nature)
            self.add(i, BKG.measurementUnit, ind.measure_unit)
            self.add(i, BKG.level1Score, ind.level1_score)
            self.provenance(i, ind.span)

    def target(self, i: URIRef, t: Target | None, raw_prop, value_prop, suffix: str) -> None:
        if t is None:
            return
        self.add(i, raw_prop, Literal(t.raw))
        if t.comparator is None:
            return
        v = URIRef(f"{i}/{suffix}")
        self.add(i, value_prop, v)
        self.add(v, RDF.type, BKG.TargetValue)
        self.add(v, RDF.type, SCHEMA.QuantitativeValue)
        self.add(v, BKG.raw, Literal(t.raw))
        self.add(v, BKG.comparator, Literal(t.comparator))
        if t.low is not None and t.low == t.high:
            self.add(v, SCHEMA.value, Literal(t.low, datatype=XSD.decimal))
        if t.low is not None:
            self.add(v, SCHEMA.minValue, Literal(t.low, datatype=XSD.decimal))
        if t.high is not None:
            self.add(v, SCHEMA.maxValue, Literal(t.high, datatype=XSD.decimal))
        if t.unit:
            self.add(v, SCHEMA.unitText, Literal(t.unit))

    def project(self, p: ProjectTargetTable) -> URIRef:
        year = p.amount_year or self.doc.year
        iri = self.unique(mint("project", self.doc.unit_name, year, p.name))
        self.add(iri, RDF.type, BKG.Project)
        self.add(iri, RDFS.label, Literal(p.name))
        self.add(iri, BKG.matchKey, Literal(project_key(p.name)))
        self.add(iri, BKG.budgetUnit, self.unit)
        self.year(iri, year)
        self.money(iri, p.amount)
        self.money(iri, p.total_funds, BKG.totalFunds)
        self.money(iri, p.current_year_appropriation, BKG.currentYearAppropriation)
        self.money(iri, p.carry_over, BKG.carryOver)
        self.money(iri, p.other_funds, BKG.otherFunds)
        self.add(iri, BKG.projectType, p.project_type)
        self.add(iri, BKG.projectLevel, p.project_level)
        self.add(iri, BKG.competentDepartment, p.competent_department)
        self.add(iri, BKG.implementingUnit, p.implementing_unit)
        self.add(iri, BKG.implementingUnitCode, p.unit_code)
        if p.start_year:
            self.add(iri, BKG.startYear, Literal(p.start_year, datatype=XSD.integer))
        if p.end_year:
            self.add(iri, BKG.endYear, Literal(p.end_year, datatype=XSD.integer))
            self.add(iri, BKG.openEnded, Literal(p.end_year >= OPEN_ENDED_YEAR))
        self.add(iri, BKG.basis, p.basis)
        self.add(iri, BKG.summary, p.summary)
        self.add(iri, BKG.overallGoal, p.overall_goal)
        self.add(iri, BKG.annualGoal, p.annual_goal)
        self.provenance(iri, p.span)
        self.indicators(iri, p.indicators)
        return iri

    def department(self, t: DepartmentTargetTable) -> None:
        year = t.year or self.doc.year
        iri = self.unique(mint("department-target", self.doc.unit_name, year))
        self.add(iri, RDF.type, BKG.DepartmentTarget)
        label_year = f"{year}年" if year else ""
        self.add(iri, RDFS.label, Literal(f"{self.doc.unit_name}{label_year}部门整体支出绩效目标"))
        self.add(iri, BKG.budgetUnit, self.unit)
        self.year(iri, year)
        if t.staff_count is not None:
            self.add(iri, BKG.staffCount, Literal(t.staff_count, datatype=XSD.integer))
        self.money(iri, t.basic_expenditure, BKG.basicExpenditure)
        self.money(iri, t.project_expenditure, BKG.projectExpenditure)
        self.add(iri, BKG.overallGoal, t.overall_goal)
        self.provenance(iri, t.span)
        for task in t.tasks:
            k = self.unique(mint("task", iri, task.name, task.optional))
            self.add(iri, BKG.hasKeyTask, k)
            self.add(k, DCTERMS.isPartOf, iri)
            self.add(k, RDF.type, BKG.KeyTask)
            self.add(k, RDFS.label, Literal(task.name))
            self.add(k, BKG.content, task.content)
            self.add(k, BKG.expectedOutcome, task.outcome)
            self.add(k, BKG.optional, Literal(task.optional))
            self.add(k, BKG.budgetUnit, self.unit)
            self.year(k, year)
            self.money(k, task.amount)
            self.provenance(k, task.span)
        self.indicators(iri, t.indicators)

    def self_evaluation(self, se: SelfEvaluation, projects: dict) -> None:
        """A 绩效自评表: the year's money planned and spent, goals planned and achieved, and its
        indicators with their targets beside the values achieved."""
        year = se.year or self.doc.year
        iri = self.unique(mint("self-evaluation", self.doc.unit_name, year, se.subject, se.name))
        self.add(iri, RDF.type, BKG.SelfEvaluation)
        self.add(iri, RDFS.label, Literal(se.name))
        self.add(iri, BKG.budgetUnit, self.unit)
        self.year(iri, year)
        self.add(iri, BKG.evaluationSubject, Literal(se.subject))
        self.add(iri, BKG.competentDepartment, se.competent_department)
        self.add(iri, BKG.implementingUnit, se.implementing_unit)
        self.money(iri, se.budget, BKG.budgetAtStart)
        self.money(iri, se.adjustment, BKG.budgetAdjustment)
        self.money(iri, se.adjusted, BKG.adjustedBudget)
        self.money(iri, se.executed, BKG.executedAmount)
        self.add(iri, BKG.executionRate, se.execution_rate)
        self.add(iri, BKG.budgetScore, _number_or_text(se.budget_score))
        self.add(iri, BKG.budgetSelfScore, _number_or_text(se.budget_self_score))
        self.add(iri, BKG.plannedGoal, se.planned_goal)
        self.add(iri, BKG.achievedGoal, se.achieved_goal)
        self.add(iri, BKG.totalScore, _number_or_text(se.total_score))
        self.add(iri, BKG.evaluationGrade, se.grade)
        if se.subject == "project":
            same = [p for p in self.doc.projects if match_key(p.name) == match_key(se.name)]
            if len(same) == 1:
                self.add(iri, BKG.evaluates, projects[id(same[0])])
        self.provenance(iri, se.span)
        self.indicators(iri, se.indicators)

    def budget_table(self, t: BudgetTable) -> None:
        tiri = self.unique(mint("table", self.d, t.title, t.number))
        self.add(tiri, RDF.type, BKG.BudgetTable)
        self.add(tiri, RDF.type, QB.DataSet)
        self.add(tiri, RDFS.label, Literal(t.title or "（无标题预算表）"))
        self.add(tiri, QB.structure, BKG.budgetLineStructure)
        self.add(tiri, BKG.tableNumber, t.number)
        ordinal = table_ordinal(t.number)
        if ordinal is not None:
            self.add(tiri, BKG.tableOrdinal, Literal(ordinal, datatype=XSD.integer))
        self.add(tiri, BKG.tableKind, BKG[t.kind])
        self.add(tiri, BKG.stage, Literal(t.stage))
        self.add(tiri, BKG.amountUnit, Literal(t.unit))
        self.add(tiri, BKG.flow, Literal(t.flow))
        self.add(tiri, BKG.fundScope, Literal(t.fund_scope))
        self.add(tiri, BKG.expenditureType, Literal(t.expenditure_type))
        self.add(tiri, BKG.budgetUnit, self.unit)
        self.year(tiri, self.doc.year)
        self.provenance(tiri, t.span)
        if t.total is not None:
            self.add(tiri, BKG.printedTotal, Literal(t.total.yuan, datatype=XSD.decimal))
        rows = t.summary_rows or [SummaryRow(label, m, "", t.span) for label, m in t.summary_totals.items()]
        for n, r in enumerate(rows, start=1):
            # rows without a code (收支总表 totals, 表12 project categories), as printed, for 勾稽 checks
            row = URIRef(f"{tiri}/s{n}")
            self.add(tiri, BKG.summaryRow, row)
            self.add(row, RDFS.label, Literal(r.label))
            self.add(row, BKG.amount, Literal(r.money.yuan, datatype=XSD.decimal))
            self.add(row, BKG.amountPrinted, Literal(r.money.printed))
            if r.group:
                self.add(row, BKG.columnGroup, Literal(r.group))
        amounts = [x for x in t.lines if x.total is not None]
        detail = dict(zip(map(id, amounts), detail_flags(amounts)))
        for line in t.lines:
            if line.name:
                self.code_names.setdefault((line.scheme, line.code), []).append(line.name)
            else:
                self.code_names.setdefault((line.scheme, line.code), [])
            if line.total is None:
                # a code printed with empty cells: no amount to observe, but its name counts
                if line.name:
                    m = self.unique(URIRef(f"{tiri}/listed/{line.code}"))
                    self.add(tiri, BKG.listsCode, concept_iri(line.scheme, line.code))
                    self.add(m, BKG.listsCode, concept_iri(line.scheme, line.code))
                    self.add(m, BKG.printedName, Literal(line.name))
                continue
            l = self.unique(mint("line", tiri, line.code) if line.cross_code is None else mint("line", tiri, line.code, line.cross_code))
            c = concept_iri(line.scheme, line.code)
            self.add(l, RDF.type, BKG.BudgetLine)
            self.add(l, RDF.type, QB.Observation)
            self.add(l, QB.dataSet, tiri)
            self.add(l, BKG.inTable, tiri)
            self.add(l, BKG.classification, c)
            self.add(l, BKG.codeLevel, Literal(CODE_LEVELS[len(line.code)]))
            self.add(l, BKG.detailRow, Literal(detail[id(line)]))
            dim = OBEU_DIMENSION.functionalClassification if line.scheme == "functional" else OBEU_DIMENSION.economicClassification
            self.add(l, dim, c)
            self.add(l, BKG.budgetUnit, self.unit)
            self.add(l, OBEU_DIMENSION.organization, self.unit)
            self.year(l, self.doc.year)
            self.money(l, line.total)
            self.add(l, OBEU_MEASURE.amount, Literal(line.total.yuan, datatype=XSD.decimal))
            self.add(l, BKG.flow, Literal(t.flow))
            self.add(l, BKG.fundScope, Literal(t.fund_scope))
            self.add(l, BKG.expenditureType, Literal(t.expenditure_type))
            if line.name:
                self.add(l, RDFS.label, Literal(f"[{line.code}] {line.name}"))
                self.add(l, BKG.printedName, Literal(line.name))
            else:
                self.add(l, RDFS.label, Literal(f"[{line.code}]"))
            if line.code_inferred:
                self.add(l, BKG.codeInferred, Literal(True))
            if line.cross_code:
                # the 政府预算经济分类 code printed beside the 部门预算 one, for the same amount
                self.add(l, BKG.secondaryClassification, concept_iri("economic", line.cross_code))
                self.code_names.setdefault(("economic", line.cross_code), []).extend([line.cross_name] if line.cross_name else [])
            by_role: dict[str, Money] = {}
            for n, col in enumerate(line.columns, start=1):
                ca = URIRef(f"{l}/c{n}")
                self.add(l, BKG.columnAmount, ca)
                self.add(ca, RDFS.label, Literal(col.heading))
                self.add(ca, BKG.amount, Literal(col.money.yuan, datatype=XSD.decimal))
                self.add(ca, BKG.amountPrinted, Literal(col.money.printed))
                self.add(ca, BKG.order, Literal(n, datatype=XSD.integer))
                self.add(ca, BKG.amountRole, _ROLES[col.role])
                by_role.setdefault(col.role, col.money)
            # budget vs actual on the line itself: the first column of each role (its 合计)
            for role, m in by_role.items():
                self.add(l, _ROLE_AMOUNT[role], Literal(m.yuan, datatype=XSD.decimal))
            self.provenance(l, line.span)

    def issues(self) -> None:
        """Tables recognised but not read: each a bkg:ParseIssue of the document, with its reason."""
        for n, t in enumerate(x for x in self.doc.tables if x.status in ("skipped", "not-read")):
            iri = URIRef(f"{self.d}/issue/{n + 1}")
            self.add(self.d, BKG.hasParseIssue, iri)
            self.add(iri, RDF.type, BKG.ParseIssue)
            self.add(iri, RDFS.label, Literal(t.title or t.kind_label))
            self.add(iri, BKG.tableKind, BKG[t.kind])
            self.add(iri, BKG.stage, Literal(t.stage))
            self.add(iri, BKG.tableNumber, t.number)
            self.add(iri, BKG.issueStatus, Literal(t.status))
            self.add(iri, BKG.reason, t.reason)
            self.provenance(iri, t.span)
            if t.pages:
                self.add(iri, BKG.pageStart, Literal(t.pages[0], datatype=XSD.integer))
                self.add(iri, BKG.pageEnd, Literal(t.pages[1], datatype=XSD.integer))

    def key_projects(self, projects: dict[str, URIRef]) -> None:
        tables = self.doc.projects
        for e in self.doc.key_projects:
            iri = self.unique(mint("key-project", self.d, e.name))
            self.add(self.d, BKG.hasKeyProjectEntry, iri)
            self.add(iri, RDF.type, BKG.KeyProjectEntry)
            self.add(iri, RDFS.label, Literal(e.name))
            self.add(iri, BKG.budgetUnit, self.unit)
            self.year(iri, self.doc.year)
            self.money(iri, e.amount)
            self.add(iri, BKG.overallGoal, e.goal)
            found = link(e, tables)
            if found is not None:
                p, note = found
                self.add(iri, BKG.refersTo, projects[id(p)])
                self.add(iri, BKG.matchNote, Literal(note))
            self.provenance(iri, e.span)

    def project_list(self, projects: dict) -> None:
        """Rows of the document's project lists (项目支出表), each linked to the project of the same
        name (its performance table) and to the 功能分类 code the list prints for it."""
        tables = self.doc.projects
        for e in self.doc.project_budgets:
            iri = self.unique(mint("project-budget", self.d, e.table, e.name, e.implementing_unit))
            self.add(self.d, BKG.hasProjectBudgetEntry, iri)
            self.add(iri, RDF.type, BKG.ProjectBudgetEntry)
            self.add(iri, RDFS.label, Literal(e.name))
            self.add(iri, BKG.budgetUnit, self.unit)
            self.year(iri, self.doc.year)
            self.money(iri, e.amount)
            self.add(iri, BKG.projectCategory, e.category)
            self.add(iri, BKG.implementingUnit, e.implementing_unit)
            if e.table:
                self.add(iri, BKG.listedIn, Literal(e.table))
            if e.code:
                self.add(iri, BKG.classification, concept_iri("functional", e.code))
                self.code_names.setdefault(("functional", e.code), [])
            found = link(e, tables)
            if found is not None:
                p, note = found
                self.add(iri, BKG.refersTo, projects[id(p)])
                self.add(iri, BKG.matchNote, Literal(note))
                if e.code:
                    # the list prints the project's 功能分类: "projects under 201" becomes a query
                    self.add(projects[id(p)], BKG.classification, concept_iri("functional", e.code))
            self.provenance(iri, e.span)

    def descriptions(self, projects: dict[str, URIRef]) -> None:
        by_key = {match_key(p.name): projects[id(p)] for p in self.doc.projects}
        for x in self.doc.descriptions:
            iri = self.unique(mint("description", self.d, x.name))
            self.add(iri, RDF.type, BKG.ProjectDescription)
            self.add(iri, RDFS.label, Literal(x.name))
            self.add(iri, BKG.budgetUnit, self.unit)
            self.year(iri, self.doc.year)
            self.add(iri, BKG.summary, x.summary)
            self.add(iri, BKG.basis, x.basis)
            self.add(iri, BKG.implementingUnit, x.implementing_unit)
            self.add(iri, BKG.periodText, x.period)
            self.add(iri, BKG.overallGoal, x.goal)
            self.money(iri, x.amount)
            target = by_key.get(match_key(x.name))
            if target is not None:
                self.add(iri, BKG.refersTo, target)
                self.add(iri, BKG.matchNote, Literal("same name as the project's performance table"))
            self.provenance(iri, x.span)

    def concepts(self) -> None:
        """Structural triples of every printed code and its parents (labels are the store's job:
        they are chosen from every document that prints the code)."""
        for scheme, code in self.code_names:
            for c in [code[:n] for n in (3, 5) if n < len(code)] + [code]:
                self.shared += concept_triples(scheme, c, None, [])

    def run(self) -> Mapped:
        self.shared_entities()
        self.document()
        projects: dict = {}
        for p in self.doc.projects:
            projects[id(p)] = self.project(p)
        for t in self.doc.department_targets:
            self.department(t)
        for se in self.doc.self_evaluations:
            self.self_evaluation(se, projects)
        for t in self.doc.budget_tables:
            self.budget_table(t)
        self.key_projects(projects)
        self.project_list(projects)
        self.descriptions(projects)
        self.issues()
        self.concepts()
        return Mapped(self.d, self.g, self.shared, self.code_names)


def map_document(doc: ParsedDocument) -> Mapped:
    return _Mapper(doc).run()


def concept_triples(scheme: str, code: str, pref: str | None, alts: list[str]) -> Graph:
    """A classification concept with its parents (类 › 款 › 项 by code prefix)."""
    g = Graph()
    scheme_iri = FUNCTIONAL_SCHEME if scheme == "functional" else ECONOMIC_SCHEME
    c = concept_iri(scheme, code)
    g.add((c, RDF.type, SKOS.Concept))
    g.add((c, SKOS.notation, Literal(code)))
    g.add((c, SKOS.inScheme, scheme_iri))
    g.add((c, BKG.codeLevel, Literal({3: "类", 5: "款", 7: "项"}[len(code)])))
    if pref:
        g.add((c, SKOS.prefLabel, Literal(pref)))
    for a in alts:
        if a != pref:
            g.add((c, SKOS.altLabel, Literal(a)))
    if len(code) == 3:
        g.add((c, SKOS.topConceptOf, scheme_iri))
    else:
        parent = code[:-2]
        g.add((c, SKOS.broader, concept_iri(scheme, parent)))
        g.add((concept_iri(scheme, parent), SKOS.narrower, c))
    return g


_SCORE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(分|%|％)?\s*$")


def _number_or_text(printed: str | None) -> Literal | None:
    """A score or weight as printed: an xsd:decimal when it is a number (``10``, ``10分``), else
    the text."""
    if printed is None or not printed.strip():
        return None
    m = _SCORE.match(printed)
    if m:
        return Literal(Decimal(m.group(1)), datatype=XSD.decimal)
    return Literal(printed.strip())

