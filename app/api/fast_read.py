"""A direct ASGI path for the hottest request: a successful `GET /v1/orders/{id}`.

FastAPI's route matching and dependency solving cost more CPU than the whole cached read
(a Redis GET and a memoised token verdict). This layer sits just inside the request
middleware (request id, log line, 500s) and answers the common case itself, with the same
code the route uses: the bearer token is verified by the same `TokenVerifier` (signature,
algorithm, issuer, audience, expiry: RFC 8725), the order comes from the same cache-aside
loader, and the response is built by the same function (ETag, Cache-Control, 304).

Anything else goes to the FastAPI application untouched: other routes and methods, a
malformed id or If-None-Match header, a missing/invalid token or scope (401/403 come from
the real dependency). Errors raised while loading go through the application's own
exception handlers, so every error is the same problem document as before.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.routes import orders
from app.api.routes.orders import (
    _etag_versions,
    _fill_order_cache,
    _load_order_cached,
    _load_order_from_database,
    _not_found,
    _order_response,
    etag,
)
from app.core.security import InvalidTokenError
from app.resources import Resources

PREFIX = "/v1/orders/"
READ_SCOPE = "orders:read"
_MAX_IF_NONE_MATCH = 1024  # the route's Header(max_length=1024)


class OrderReadFastPath:
    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        # The route the request would have matched: the log line's path template.
        self.route = next(
            route
            for route in orders.router.routes
            if isinstance(route, APIRoute) and route.endpoint is orders.read_order
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if not path.startswith(PREFIX) or "/" in path[len(PREFIX) :]:
            await self.app(scope, receive, send)
            return
        handled = await self._try(scope, receive, send, path[len(PREFIX) :])
        if not handled:
            await self.app(scope, receive, send)

    async def _try(self, scope: Scope, receive: Receive, send: Send, raw_id: str) -> bool:
        """Answer the request if it is the common case; False (nothing sent) otherwise."""
        try:
            order_id = uuid.UUID(raw_id)
        except ValueError:
            return False
        authorization: str | None = None
        if_none_match: str | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
        if not authorization or (
            if_none_match is not None and len(if_none_match) > _MAX_IF_NONE_MATCH
        ):
            return False
        scheme, _sep, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return False
        state = getattr(scope.get("app"), "state", None) or self.fastapi_app.state
        resources: Resources | None = getattr(state, "resources", None)
        if resources is None:
            return False
        try:
            principal = resources.verifier.verify(token)
        except InvalidTokenError:
            return False
        if READ_SCOPE not in principal.scopes:
            return False
        scope["route"] = self.route
        scope["path_params"] = {"order_id": raw_id}
        fill: tuple[str, bytes] | None = None
        try:
            loaded = await _load_order_cached(resources, order_id)
            if loaded is None:
                loaded, fill = await _load_order_from_database(resources, order_id)
            if loaded is None or loaded[1] != principal.client_id:
                raise _not_found(order_id)
            version, _partner, body = loaded
            response: Response
            if if_none_match is not None and (
                (versions := _etag_versions(if_none_match)) is None or version in versions
            ):
                response = Response(status_code=304, headers={"ETag": etag(version)})
            else:
                response = _order_response(body, version)
        except Exception as exc:
            response = await self._handle(scope, exc)
        await response(scope, receive, send)
        if fill is not None:
            # Filled after the response is sent: the client does not wait for the SET.
            await _fill_order_cache(resources, *fill)
        return True

    async def _handle(self, scope: Scope, exc: Exception) -> Response:
        """The response the application's exception handlers give (as ExceptionMiddleware
        would); anything without a handler propagates to the request middleware (500)."""
        handlers: dict[Any, Any] = self.fastapi_app.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                break
            handler = handlers.get(cls)
            if handler is not None:
                result: Response = await handler(Request(scope), exc)
                return result
        raise exc
