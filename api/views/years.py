"""``GET /api/compare``: 历年对比 as JSON — the read model :func:`api.readmodel.years.compare_years`,
which the unit and project pages render as HTML."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.errors import ApiError, StrictQueryRoute, error_responses
from api.models import YearComparison
from api.readmodel.graph import directory, one, typed_props
from api.readmodel.ids import ID_PATTERN, minted
from api.readmodel.years import compare_years
from api.runtime import Runtime, runtime

router = APIRouter(route_class=StrictQueryRoute, tags=["资源 Resources"])


def comparison(rt: Runtime, unit: str | None = None, project: str | None = None):
    """The comparison of a unit (id), or of one project (id) within its unit; None when there is no such
    unit or project. Blocking: run it in a thread."""
    if project is not None:
        p = typed_props(rt.store, minted("project", project), "Project")
        unit_iri = one(p, "budgetUnit") if p is not None else None
        if unit_iri is None:
            return None
        c = compare_years(rt.store, directory(rt), unit_iri)
        return c.only(minted("project", project)) if c is not None else None
    return compare_years(rt.store, directory(rt), minted("unit", unit))


EXAMPLE = {"unit": {"iri": "https://w3id.org/budgetkg/id/unit/0ccf550f29c9103f", "id": "0ccf550f29c9103f",
                    "name": "东莞市清溪镇政务服务中心", "town": "清溪镇"},
           "years": [2024, 2025],
           "totals": [{"year": 2024, "amount": "9928500", "change": None}, {"year": 2025, "amount": "9976500", "change": "48000"}],
           "projects": [{"name": "专用设备租赁费支出", "match_rule": "exact name",
                         "years": [{"year": 2024, "amount": "432000", "change": None, "id": "a5607415adf71490",
                                    "name": "专用设备租赁费支出"},
                                   {"year": 2025, "amount": "480000", "change": "48000", "name": "专用设备租赁费支出"}],
                         "indicators": [{"level1": "产出指标", "level2": "时效指标", "name": "报障后维护人员到场时间",
                                         "targets": [{"year": 2024, "target": "≤24小时"}, {"year": 2025, "target": "≤12小时"}]}]}]}


@router.get("/api/compare", summary="历年对比（单位或项目）",
            description="同一预算单位各年度并列：支出总计（支出总表明细行，每一元只计一次）及增减；每个项目与其他年度的同一项目"
                        "（bkg:ProjectYearLink，存储文件时按名称匹配，`match_rule` 为匹配规则）并列，金额（元，精确的十进制字符串）"
                        "及较上一年度的增减，以及各年度都印出的同名三级指标的年度指标值。`unit=` 给单位，`project=` 只看该项目。",
            response_model=YearComparison, response_model_exclude_unset=True,
            responses={200: {"description": "历年对比", "content": {"application/json": {"example": EXAMPLE}}},
                       **error_responses(404, 422)})
async def compare(request: Request,
                  unit: str | None = Query(None, pattern=ID_PATTERN, description="预算单位 id，如 0ccf550f29c9103f"),
                  project: str | None = Query(None, pattern=ID_PATTERN, description="项目 id，如 a5607415adf71490")) -> dict:
    if (unit is None) == (project is None):
        raise ApiError(422, "参数有误 invalid parameters", "give exactly one of unit= and project=")
    out = await run_in_threadpool(comparison, runtime(request), unit, project)
    if out is None:
        raise ApiError(404, "未找到 not found", f"no {'budget unit' if unit else 'project'} {unit or project!r} in this data directory")
    return out.as_json()
