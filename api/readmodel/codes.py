"""Classification codes (预算科目: 支出功能分类、支出经济分类) for the code pages and ``/api/codes``."""
from __future__ import annotations

from api.readmodel.ids import NOTATION_RE, iri_term
from api.readmodel.labels import SCHEME_IRIS

_SCHEME_KEYS = {iri: key for key, iri in SCHEME_IRIS.items()}


def concepts(store, notation: str, scheme: str | None = None) -> list[dict]:
    """The concepts printed as ``notation`` in one code list (``functional`` / ``economic``) or in both."""
    if not NOTATION_RE.match(notation):
        return []
    schemes = [SCHEME_IRIS[scheme]] if scheme in SCHEME_IRIS else list(SCHEME_IRIS.values())
    out: dict[str, dict] = {}
    for r in store.select(f"""SELECT ?c ?s ?l ?lev WHERE {{ ?c skos:notation "{notation}" ; skos:inScheme ?s .
            FILTER(?s IN ({", ".join(iri_term(s) for s in schemes)}))
            OPTIONAL {{ ?c skos:prefLabel ?l }} OPTIONAL {{ ?c bkg:codeLevel ?lev }} }}"""):
        out.setdefault(r["c"], {"iri": r["c"], "notation": notation, "label": r["l"], "level": r["lev"],
                                "scheme": _SCHEME_KEYS[r["s"]]})
    return list(out.values())


def _refs(store, pattern: str) -> list[dict]:
    refs: dict[str, dict] = {}
    for r in store.select(f"""SELECT ?x ?n ?l ?lev WHERE {{ {pattern} ?x skos:notation ?n .
            OPTIONAL {{ ?x skos:prefLabel ?l }} OPTIONAL {{ ?x bkg:codeLevel ?lev }} }}"""):
        refs.setdefault(r["x"], {"iri": r["x"], "notation": r["n"], "label": r["l"], "level": r["lev"]})
    return sorted(refs.values(), key=lambda x: (len(x["notation"]), x["notation"]))


def broader(store, iri: str) -> list[dict]:
    """The codes above one (类 › 款), top first, in one query."""
    return _refs(store, f"{iri_term(iri)} skos:broader+ ?x .")


def narrower(store, iri: str) -> list[dict]:
    """The codes right below one."""
    return _refs(store, f"?x skos:broader {iri_term(iri)} .")
