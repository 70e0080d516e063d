#!/usr/bin/env python
"""How many hand-read facts of the real documents a parser gives exactly (the facts of
tests/test_real_facts.py, counted one by one instead of pass/fail per document).

    python bench/real_facts.py [--tree DIR] [--folder DIR] [--json]

``--tree`` measures the parser of another checkout (e.g. ``/tmp/wt-540``, the pre-rewrite
baseline): its ``parse_source`` may raise on refusal (then no fact of that file is read) and its
records may lack newer attributes (then that fact is not read). Facts are counted per case, a case
being a file as the test reads it (the text copy and, where there is one, the PDF): the unit, the
year, each project (name found once, amount exact), its indicator count and its sample indicator
(levels and target), each budget line's amount, each special fund. The narrative-only document (its
amounts are only in prose) counts its unit and year.
"""
from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / "tests" / "fixtures" / "real"


def cases(folder: Path, facts: list[dict]) -> list[tuple[str, dict]]:
    out = []
    for f in facts:
        out.append((f["doc"], f))
        pdf = f["doc"].removesuffix(".txt") + ".pdf"
        if not f["doc"].endswith(".raw.txt") and (folder / pdf).exists():
            out.append((pdf, f))
    return out


def read(path: Path):
    """The parsed document, or why none (an older parser raises on refusal)."""
    import ingest.parse as parse
    from ingest.errors import IngestError
    from ingest.text import read_source

    try:
        src = read_source(path)
        if hasattr(parse, "read_document"):
            return parse.read_document(src), None
        return parse.parse_source(src), None
    except IngestError as exc:
        return None, exc.reason


def fact_results(doc, fact: dict) -> list[tuple[str, bool]]:
    """(fact, read exactly?) for every fact of ``fact``."""
    out = [(f"unit {fact['unit']}", doc is not None and doc.unit_name == fact["unit"]),
           (f"year {fact['year']}", doc is not None and doc.year == fact["year"])]
    projects = list(getattr(doc, "projects", []) or [])
    for p in fact["projects"]:
        got = [x for x in projects if x.name == p["name"]]
        if len(got) > 1:  # the same project printed for several units: the document's own unit's
            got = [x for x in got if getattr(x, "implementing_unit", None) == doc.unit_name]
        q = got[0] if len(got) == 1 else None
        out.append((f"project {p['name']}", q is not None and q.amount is not None
                    and q.amount.yuan == Decimal(str(p["amount_yuan"]))))
        if p.get("indicator_count") is not None:
            out.append((f"indicator count {p['name']}", q is not None and len(q.indicators) == p["indicator_count"]))
        i = p.get("indicator")
        if i:
            hit = [x for x in (q.indicators if q else []) if x.text == i["name"]]
            ok = len(hit) == 1 and (hit[0].level1.label, hit[0].level2.label,
                                    hit[0].annual.raw if hit[0].annual else None) == (i["level1"], i["level2"], i["target"])
            out.append((f"indicator {i['name']}", ok))
    tables = list(getattr(doc, "budget_tables", []) or [])
    for b in fact["budget_lines"]:
        amounts = {ln.total.yuan for t in tables for ln in t.lines if ln.code == b["code"] and ln.total}
        out.append((f"line {b['code']}", Decimal(str(b["amount_yuan"])) in amounts))
    for s in fact.get("special_funds", []):
        got = [x for x in projects if x.name == s["name"]]
        out.append((f"special fund {s['name']}", len(got) == 1 and got[0].amount is not None
                     and got[0].amount.yuan == Decimal(str(s["amount_yuan"]))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=ROOT, help="source tree whose parser to measure")
    ap.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="documents with their facts.json")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.tree.resolve()))
    facts = json.loads((args.folder / "facts.json").read_text(encoding="utf-8"))
    rows = []
    for name, fact in cases(args.folder, facts):
        doc, refusal = read(args.folder / name)
        res = fact_results(doc, fact)
        rows.append({"case": name, "refused": refusal, "facts": len(res), "read": sum(ok for _, ok in res),
                     "missed": [f for f, ok in res if not ok]})
    total = {"cases": len(rows), "facts": sum(r["facts"] for r in rows), "read": sum(r["read"] for r in rows),
             "cases_every_fact": sum(r["read"] == r["facts"] for r in rows)}
    if args.json:
        print(json.dumps({"tree": str(args.tree.resolve()), "cases": rows, "totals": total}, ensure_ascii=False, indent=1))
        return 0
    for r in rows:
        print(f"{r['read']:3}/{r['facts']:<3} {r['case']}" + (f"  (refused: {r['refused']})" if r["refused"] else ""))
        for m in r["missed"]:
            print(f"          missed {m}")
    print(f"facts read exactly: {total['read']} of {total['facts']} over {total['cases']} cases; "
          f"cases with every fact: {total['cases_every_fact']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
