"""The budgetkg ontology: namespaces, file locations and IRI minting.

The Turtle files beside this module are the source of truth:

- ``budgetkg.ttl``       OWL classes and properties (``bkg:``), aligned to qb:, OpenBudgets.eu, SKOS,
                         W3C ORG, PROV, DCTERMS and schema.org
- ``indicator-levels.ttl`` SKOS scheme of indicator levels (财预〔2021〕101号 一级/二级指标)
- ``table-kinds.ttl``    SKOS scheme of table kinds (收支总表, 一般公共预算支出表, 项目绩效目标表 …)
- ``shapes.ttl``         SHACL shapes: what a valid budgetkg graph is

Classification code lists (支出功能分类 / 支出经济分类) are SKOS concept schemes whose concepts are
minted while ingesting, from every code the documents print (see :mod:`ingest.codes`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

HERE = Path(__file__).resolve().parent
ONTOLOGY_TTL = HERE / "budgetkg.ttl"
LEVELS_TTL = HERE / "indicator-levels.ttl"
TABLE_KINDS_TTL = HERE / "table-kinds.ttl"
SHAPES_TTL = HERE / "shapes.ttl"

BKG = Namespace("https://w3id.org/budgetkg/def#")
#: instance data lives under its own base so that vocabulary and data never collide
ID = Namespace("https://w3id.org/budgetkg/id/")
QB = Namespace("http://purl.org/linked-data/cube#")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
OBEU_DIMENSION = Namespace("http://data.openbudgets.eu/ontology/dsd/dimension/")
OBEU_MEASURE = Namespace("http://data.openbudgets.eu/ontology/dsd/measure/")
OBEU_ATTRIBUTE = Namespace("http://data.openbudgets.eu/ontology/dsd/attribute/")
CURRENCY_CNY = Namespace("http://data.openbudgets.eu/codelist/currency/")["CNY"]

#: prefixes offered to SPARQL users (endpoint, CLI, web editor) and used when serialising
PREFIXES: dict[str, str] = {
    "bkg": str(BKG),
    "bkgid": str(ID),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "qb": str(QB),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "obeu-dimension": str(OBEU_DIMENSION),
    "obeu-measure": str(OBEU_MEASURE),
    "obeu-attribute": str(OBEU_ATTRIBUTE),
}

#: code-list schemes (contract names)
FUNCTIONAL_SCHEME = BKG.FunctionalClassification
ECONOMIC_SCHEME = BKG.EconomicClassification
LEVEL_SCHEME = BKG.IndicatorLevels
TABLE_KIND_SCHEME = BKG.TableKinds
#: the Turtle files loaded into the store's ontology graph
VOCABULARY_FILES = (ONTOLOGY_TTL, LEVELS_TTL, TABLE_KINDS_TTL)
#: the query cookbook: one SPARQL query per file, its title and description in leading comments
QUERIES_DIR = HERE / "queries"


@dataclass(frozen=True)
class CookbookQuery:
    """A query of the cookbook (``ontology/queries/NAME.rq``): what the README, the SPARQL editor and
    the service description show, and what the tests run against the samples."""

    name: str  # the file's stem: totals-by-region-year
    title: str  # "# title: …" (Chinese, as the editor shows it)
    description: str  # "# description: …" and its indented continuation lines
    text: str  # the whole file, comments included: a valid query as it is

    @property
    def file(self) -> Path:
        return QUERIES_DIR / f"{self.name}.rq"


def read_query(path: Path) -> CookbookQuery:
    """A cookbook file: ``# title:`` and ``# description:`` (continued on ``#   `` lines) head the query."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:]
        head, sep, rest = body.strip().partition(":")
        if sep and head in ("title", "description") and not body.startswith("   "):
            current = head
            fields[current] = [rest.strip()]
        elif current is not None:
            fields[current].append(body.strip())
    if "title" not in fields or "description" not in fields:
        raise ValueError(f"{path.name}: a cookbook query starts with '# title:' and '# description:' comments")
    return CookbookQuery(path.stem, " ".join(fields["title"]), " ".join(fields["description"]), text)


def cookbook() -> list[CookbookQuery]:
    """Every query of the cookbook, by file name."""
    return [read_query(p) for p in sorted(QUERIES_DIR.glob("*.rq"))]


def sparql_prefixes() -> str:
    """The PREFIX block for queries written against the ontology."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def digest(*parts: object, length: int = 16) -> str:
    """A short, stable hash of content parts: the basis of every minted instance IRI.

    Parts are joined with a separator that cannot occur in the documents' text, so
    ("ab", "c") and ("a", "bc") never collide.
    """
    h = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:length]


def mint(kind: str, *parts: object) -> URIRef:
    """Deterministic instance IRI, e.g. ``mint("project", unit, year, name)``."""
    return ID[f"{kind}/{digest(*parts)}"]


__all__ = [
    "BKG", "ID", "QB", "ORG", "SCHEMA", "SKOS", "DCTERMS", "PROV", "RDF", "RDFS", "OWL", "XSD",
    "OBEU_DIMENSION", "OBEU_MEASURE", "OBEU_ATTRIBUTE", "CURRENCY_CNY", "PREFIXES",
    "FUNCTIONAL_SCHEME", "ECONOMIC_SCHEME", "LEVEL_SCHEME", "TABLE_KIND_SCHEME", "ONTOLOGY_TTL", "LEVELS_TTL",
    "TABLE_KINDS_TTL", "VOCABULARY_FILES",
    "SHAPES_TTL", "QUERIES_DIR", "CookbookQuery", "cookbook", "read_query", "sparql_prefixes", "digest", "mint", "URIRef",
]
