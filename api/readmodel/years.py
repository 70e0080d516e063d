"""历年对比: one budget unit's years side by side — its 支出总计, and each of its projects with the same
project of other years (bkg:ProjectYearLink, made when documents are stored), amounts and indicator
targets by year, with the change in 元.

Read with four queries whatever the number of projects; rendered as JSON (``/api/compare``) and on the
unit and project pages. Amounts are :class:`~decimal.Decimal` 元, never floats.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal

from api.readmodel.graph import Directory, UnitRef
from api.readmodel.ids import iri_term, local_id
from ontology import cookbook

#: the cookbook query the unit's totals come from (each yuan once: detail rows of its 支出总表)
TOTALS_QUERY = "unit-totals-by-year"
#: the bkg:matchRule of a link made after normalising the names (spaces, brackets, a printed year)
NORMALISED = "name after normalisation"


@dataclass(frozen=True)
class YearAmount:
    """An amount of one year, and its change from the nearest earlier year shown (增减, 元)."""

    year: int
    amount: Decimal | None
    change: Decimal | None = None


@dataclass(frozen=True)
class ProjectYear:
    """The project as printed in one year."""

    year: int
    iri: str
    name: str
    amount: Decimal | None

    @property
    def id(self) -> str | None:
        return local_id(self.iri)


@dataclass
class IndicatorYears:
    """One indicator (三级指标, the same printed text every year) with its 年度指标值 by year."""

    level1: str
    level2: str
    name: str
    targets: dict[int, str] = field(default_factory=dict)

    def target(self, year: int) -> str | None:
        return self.targets.get(year)


@dataclass
class ProjectYears:
    """The same project of a unit across years (同一项目的历年对比)."""

    name: str  # as printed in the latest year
    rule: str | None  # bkg:matchRule of its links ("exact name", "name after normalisation"); None: one year only
    years: list[ProjectYear]
    indicators: list[IndicatorYears]

    def in_year(self, year: int) -> ProjectYear | None:
        return next((p for p in self.years if p.year == year), None)

    def amounts(self, years: list[int]) -> list[YearAmount]:
        """Its amount in each of ``years`` (None where it was not printed), with the changes."""
        return with_changes(years, {p.year: p.amount for p in self.years})

    @property
    def iris(self) -> set[str]:
        return {p.iri for p in self.years}


@dataclass
class YearComparison:
    """A unit's years side by side."""

    unit: UnitRef
    years: list[int]
    totals: list[YearAmount]  # 支出总计 per year, as the cookbook's unit-totals-by-year gives it
    projects: list[ProjectYears]

    def only(self, project_iri: str) -> "YearComparison":
        """The comparison of one project: the group it belongs to."""
        return YearComparison(self.unit, self.years, self.totals, [p for p in self.projects if project_iri in p.iris])

    def as_json(self) -> dict:
        """The answer of ``/api/compare`` (amounts as exact decimal strings in 元)."""
        def money(d: Decimal | None) -> str | None:
            return None if d is None else str(d)

        return {
            "unit": {"iri": self.unit.iri, "id": self.unit.id, "name": self.unit.label, "town": self.unit.region_label},
            "years": self.years,
            "totals": [{"year": t.year, "amount": money(t.amount), "change": money(t.change)} for t in self.totals],
            "projects": [{
                "name": p.name, "match_rule": p.rule,
                "years": [{"year": a.year, "amount": money(a.amount), "change": money(a.change),
                           **({"iri": y.iri, "id": y.id, "name": y.name} if (y := p.in_year(a.year)) else {})}
                          for a in p.amounts(self.years)],
                "indicators": [{"level1": i.level1, "level2": i.level2, "name": i.name,
                                "targets": [{"year": y, "target": i.target(y)} for y in self.years]}
                               for i in p.indicators],
            } for p in self.projects],
        }


def with_changes(years: list[int], amounts: dict[int, Decimal | None]) -> list[YearAmount]:
    """The amount of each year with its change (增减) from the nearest earlier year that has one."""
    out, previous = [], None
    for y in years:
        amount = amounts.get(y)
        out.append(YearAmount(y, amount, amount - previous if amount is not None and previous is not None else None))
        if amount is not None:
            previous = amount
    return out


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value not in (None, "") else None


def unit_totals(store, unit: UnitRef) -> dict[int, Decimal]:
    """支出总计 per year of one unit: the cookbook's query (tested against the printed totals), kept as
    written and restricted to the unit."""
    query = next(q for q in cookbook() if q.name == TOTALS_QUERY).text
    return {int(r["year"]): Decimal(r["total"]) for r in store.select(query) if r["unit"] == unit.label and r["year"]}


def compare_years(store, d: Directory, unit_iri: str) -> YearComparison | None:
    """The years of one budget unit side by side; None when there is no such unit."""
    unit = d.units.get(unit_iri)
    if unit is None:
        return None
    u = iri_term(unit_iri)
    projects: dict[str, ProjectYear] = {}
    for r in store.select(f"""SELECT ?p ?name ?y ?a WHERE {{ ?p a bkg:Project ; bkg:budgetUnit {u} ; rdfs:label ?name ;
                                bkg:fiscalYear ?y . OPTIONAL {{ ?p bkg:amount ?a }} }}"""):
        projects.setdefault(r["p"], ProjectYear(int(r["y"]), r["p"], r["name"], _decimal(r["a"])))
    # the same project in several years: the connected groups of the year links
    group = {iri: iri for iri in projects}
    links: list[tuple[str, str]] = []  # (project, rule)

    def root(x: str) -> str:
        while group[x] != x:
            group[x] = group[group[x]]
            x = group[x]
        return x

    for r in store.select(f"""SELECT ?p1 ?p2 ?rule WHERE {{ ?k a bkg:ProjectYearLink ; bkg:earlierProject ?p1 ;
                                bkg:laterProject ?p2 ; bkg:matchRule ?rule . ?p1 bkg:budgetUnit {u} }}"""):
        if r["p1"] in group and r["p2"] in group:
            group[root(r["p1"])] = root(r["p2"])
            links.append((r["p1"], r["rule"]))
    indicators: dict[str, list[tuple]] = {}
    for r in store.select(f"""SELECT ?p ?i ?name ?l1 ?l2 ?annual ?order WHERE {{
            ?p a bkg:Project ; bkg:budgetUnit {u} ; bkg:hasIndicator ?i . ?i rdfs:label ?name .
            OPTIONAL {{ ?i bkg:level1/skos:prefLabel ?l1 }} OPTIONAL {{ ?i bkg:level2/skos:prefLabel ?l2 }}
            OPTIONAL {{ ?i bkg:annualTarget ?annual }} OPTIONAL {{ ?i bkg:order ?order }} }}"""):
        indicators.setdefault(r["p"], []).append((int(r["order"]) if r["order"] else 0, r["i"], r["name"], r["l1"] or "",
                                                  r["l2"] or "", r["annual"]))
    groups: dict[str, list[ProjectYear]] = OrderedDict()
    for iri in projects:
        groups.setdefault(root(iri), []).append(projects[iri])
    out = []
    for members in groups.values():
        members.sort(key=lambda p: p.year)
        rows: dict[str, IndicatorYears] = OrderedDict()
        # indicators in the order of the latest year's table, then those printed only earlier
        for p in reversed(members):
            for _order, _i, name, l1, l2, annual in sorted(indicators.get(p.iri, []), key=lambda x: (x[0], x[1])):
                row = rows.setdefault(name, IndicatorYears(l1, l2, name))
                if annual is not None:
                    row.targets.setdefault(p.year, annual)
        # a group any of whose links needed the names normalised says so
        found = {rule for p1, rule in links if root(p1) == root(members[0].iri)}
        rule = NORMALISED if NORMALISED in found else next(iter(found), None)
        out.append(ProjectYears(members[-1].name, rule, members, list(rows.values())))
    out.sort(key=lambda g: (-len(g.years), g.name))
    totals = unit_totals(store, unit)
    years = sorted({p.year for p in projects.values()} | set(totals))
    return YearComparison(unit, years, with_changes(years, totals), out)
