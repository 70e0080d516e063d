"""Document pages (``/document/{id}``): a stored disclosure and what was read from it, in printed order."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.readmodel.graph import directory, document_ref, one, typed_props
from api.readmodel.ids import ID_RE, iri_term, local_id, minted, page_url
from api.runtime import runtime
from api.templating import not_found, render

router = APIRouter(include_in_schema=False)

#: the kinds of things a document's contents list, in Chinese
CONTENT_KINDS = {"Project": "项目绩效目标表", "DepartmentTarget": "部门整体支出绩效目标表", "BudgetTable": "预算表",
                 "KeyProjectEntry": "重点项目条目", "ProjectDescription": "项目经费情况说明"}


@router.get("/document/{id}", response_class=HTMLResponse)
def document_page(request: Request, id: str):
    if not ID_RE.match(id):
        return not_found(request, "文件", id)
    iri = minted("doc", id)
    rt = runtime(request)
    store = rt.store
    p = typed_props(store, iri, "Document")
    if p is None:
        return not_found(request, "文件", id)
    d = document_ref(store, iri)
    d.update(unit=directory(rt).unit(one(p, "budgetUnit")), sha256=one(p, "sha256"), encoding=one(p, "encoding"),
             lines=one(p, "lineEnd"))
    contents = []
    for r in store.select(f"""
        SELECT ?x ?t ?l ?ls ?le ?a WHERE {{
          ?x bkg:sourceDocument {iri_term(iri)} ; a ?t ; rdfs:label ?l .
          FILTER(?t IN (bkg:Project, bkg:DepartmentTarget, bkg:BudgetTable, bkg:KeyProjectEntry, bkg:ProjectDescription))
          OPTIONAL {{ ?x bkg:lineStart ?ls }} OPTIONAL {{ ?x bkg:lineEnd ?le }} OPTIONAL {{ ?x bkg:amount ?a }}
        }}"""):
        kind = CONTENT_KINDS[r["t"].rsplit("#", 1)[-1]]
        url = page_url(r["x"])
        if kind == "预算表" and d["unit"]:
            url = f"{page_url(d['unit']['iri'])}#table-{local_id(r['x'])}"
        contents.append({"iri": r["x"], "kind": kind, "label": r["l"], "start": int(r["ls"]) if r["ls"] else 0,
                         "end": r["le"], "amount": r["a"], "url": url})
    contents.sort(key=lambda c: (c["start"], c["label"]))
    return render(request, "document.html", d=d, contents=contents, title=d["title"])
