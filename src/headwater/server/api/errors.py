"""Turning errors into HTTP answers that say what was wrong, and the request-size guard."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from headwater.exceptions import InvalidInput, ObjectNotFound


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
    return f"{location}: {error.get('msg', 'invalid')}"


def install_error_handlers(app: FastAPI) -> None:
    """404 for unknown ids, 409 for refused content, 422 naming each invalid field."""

    @app.exception_handler(ObjectNotFound)
    async def not_found(request: Request, exc: ObjectNotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(InvalidInput)
    async def invalid(request: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = "The request body is not valid JSON: " + "; ".join(
                str(e.get("ctx", {}).get("error", e.get("msg"))) for e in errors
            )
        else:
            detail = "Invalid request: " + "; ".join(_describe(e) for e in errors)
        return JSONResponse({"detail": detail, "errors": _jsonable(errors)}, status_code=422)


def _jsonable(errors: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(errors, fallback=str)


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413 before reading them into memory."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    def _too_large(self) -> _TooLarge:
        return _TooLarge(f"Request body too large: the limit is {self.max_bytes} bytes. Send smaller batches.")

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse({"detail": self._too_large().detail}, status_code=413)
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised while a body is read past the limit. An `HTTPException`, because FastAPI turns any other
    exception raised while it reads a body into "400 There was an error parsing the body"; this one
    it re-raises, and the app's handler answers 413 with the message."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)
