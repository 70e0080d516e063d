"""SHACL validation of the store (pyshacl over the union of all graphs)."""
from __future__ import annotations

from dataclasses import dataclass

from pyshacl import validate as shacl_validate
from rdflib import Graph

from ontology import ONTOLOGY_TTL, SHAPES_TTL

from .store import GraphStore


@dataclass
class Report:
    conforms: bool
    text: str
    results: int


def validate_graph(data: Graph) -> Report:
    shapes = Graph().parse(SHAPES_TTL)
    ont = Graph().parse(ONTOLOGY_TTL)
    conforms, report_graph, text = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ont, inference="none", advanced=False, allow_warnings=True,
    )
    from rdflib.namespace import SH

    n = sum(1 for _ in report_graph.subjects(predicate=SH.resultSeverity))
    return Report(bool(conforms), str(text), n)


def validate_store(store: GraphStore) -> Report:
    return validate_graph(store.rdflib_graph())
