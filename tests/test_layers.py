"""The layers import only from earlier ones (ontology → ingest → index → api) and no module imports
itself back through others — read from the source (every ``import``, also those inside functions)."""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

LAYERS = ["ontology", "ingest", "index", "api"]
#: cycles known and owned elsewhere: the parsers' indicators.py borrows project_targets.is_page_number
#: (inside a function), which belongs in a module both import — left to the parser engineers
KNOWN_CYCLES = [["ingest.indicators", "ingest.project_targets"]]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module → the project modules it imports."""
    files = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    names = {module_name(p) for p in files}
    out: dict[str, set[str]] = {}
    for p in files:
        me = module_name(p)
        package = me if p.name == "__init__.py" else me.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in names and t != me}
        out[me] = found
    return out


def test_layers_import_only_earlier_ones():
    wrong = [(m, t) for m, ts in imports().items() for t in ts
             if LAYERS.index(t.split(".")[0]) > LAYERS.index(m.split(".")[0])]
    assert wrong == []


def test_no_import_cycles():
    graph = imports()
    cycles, state = [], {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = "open"
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                cycles.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package importing its own submodules (api.views → api.views.pages) is how packages work, not a cycle
    cycles = [c for c in cycles if not all(x.startswith(c[0] + ".") for x in c[1:-1])]
    assert [c for c in cycles if sorted(set(c)) not in KNOWN_CYCLES] == []
