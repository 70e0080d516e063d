"""JSON errors for the HTTP API: every 4xx/5xx body is ``{"error": ..., "detail": ...}``.

Views raise :class:`ApiError`; routers built with :class:`JsonErrorRoute` (or
:class:`StrictQueryRoute`, which also rejects query parameters the operation does not declare)
turn it — and FastAPI's request-validation errors — into such a body. The route class does this
per router, so the app factory needs no global exception handlers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute


class ApiError(Exception):
    """An error answer: HTTP status, a short message and a detail (text or JSON-able)."""

    def __init__(self, status: int, error: str, detail: object = None, headers: dict[str, str] | None = None):
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


def error_response(status: int, error: str, detail: object = None, headers: dict[str, str] | None = None,
                   **extra: object) -> JSONResponse:
    body = {"error": error, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, headers=headers)


#: documented error answers, for ``responses=`` of path operations
ERROR_EXAMPLE = {"error": "参数无效 invalid parameters", "detail": "top: 不能大于 100 (Input should be less than or equal to 100)"}


def error_responses(*codes: int) -> dict[int, dict]:
    text = {400: "请求无效（例如 SPARQL 语法错误）", 403: "查询被拒绝（更新、LOAD、SERVICE）", 404: "未找到",
            406: "无法提供所要求的格式", 409: "标识不唯一", 413: "查询过长", 422: "参数无效或有未知参数",
            503: "查询超时或服务繁忙", 504: "查询超时"}
    return {c: {"description": text.get(c, "错误"),
                "content": {"application/json": {"example": ERROR_EXAMPLE}}} for c in codes}


def _validation_detail(errors: Iterable[dict]) -> str:
    parts = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body"))
        parts.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
    return "; ".join(parts)


def _query_param_names(dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_param_names(sub)
    return names


class JsonErrorRoute(APIRoute):
    """Path operations whose errors are JSON ``{"error", "detail"}`` bodies."""

    def get_route_handler(self) -> Callable[[Request], object]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                self.check_request(request)
                return await original(request)
            except ApiError as exc:
                return error_response(exc.status, exc.error, exc.detail, exc.headers)
            except RequestValidationError as exc:
                errors = exc.errors()
                return error_response(422, "参数无效 invalid parameters", _validation_detail(errors),
                                      errors=[{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors])

        return handler

    def check_request(self, request: Request) -> None:
        """Hook for subclasses: raise :class:`ApiError` to refuse a request before validation."""


class StrictQueryRoute(JsonErrorRoute):
    """Also refuses query parameters the operation does not declare (a typo must not be ignored)."""

    def check_request(self, request: Request) -> None:
        known = _query_param_names(self.dependant)
        unknown = sorted(set(request.query_params.keys()) - known)
        if unknown:
            raise ApiError(422, "未知参数 unknown parameters",
                           f"{', '.join(unknown)} (known: {', '.join(sorted(known)) or 'none'})")
