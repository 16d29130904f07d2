"""Access control: with an auth string configured, every API call must carry it as a bearer token."""

from __future__ import annotations

import hmac

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

OPEN_PATHS: frozenset[str] = frozenset()  # every call needs the credential, health included


class RequireAuth:
    """Answer 401 to calls without `Authorization: Bearer <secret>`; compared in constant time."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self._secret = secret.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() == b"bearer" and hmac.compare_digest(token, self._secret):
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "Missing or wrong credentials: set HEADWATER_API_KEY to the server's auth string."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
        await response(scope, receive, send)
