"""`Annotated` dependency aliases shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProblemError
from app.core.security import SCOPES, InvalidTokenError, Principal
from app.resources import Resources

REALM = "kakehashi"


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    async with resources.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _unauthorized(detail: str, *, error: str | None = "invalid_token") -> ProblemError:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None:
        challenge += f', error="{error}", error_description="{detail}"'
    return ProblemError(
        401,
        slug="unauthorized",
        detail=detail,
        headers={"WWW-Authenticate": challenge},
    )


class PartnerAuth(OAuth2):
    """Bearer-token authentication, documented in OpenAPI as the client-credentials flow.

    One dependency (no sub-dependencies to solve: it sits on the hot read path) that returns
    the verified caller; 401 for a missing/bad token, 403 for a missing scope.
    """

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> Principal:
        authorization = request.headers.get("authorization")
        if not authorization:
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            raise _unauthorized("an access token is required", error=None)
        scheme, _sep, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthorized(
                "the Authorization header must be 'Bearer <token>'", error="invalid_request"
            )
        try:
            principal: Principal = request.app.state.resources.verifier.verify(token.strip())
        except InvalidTokenError as exc:
            raise _unauthorized(str(exc)) from exc
        missing = [scope for scope in security_scopes.scopes if scope not in principal.scopes]
        if missing:
            needed = " ".join(security_scopes.scopes)
            raise ProblemError(
                403,
                slug="insufficient-scope",
                detail=f"this operation needs the scope(s): {needed}",
                headers={
                    "WWW-Authenticate": (
                        f'Bearer realm="{REALM}", error="insufficient_scope", scope="{needed}"'
                    )
                },
            )
        return principal


authenticate = PartnerAuth(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(tokenUrl="/oauth/token", scopes=SCOPES)
    ),
    scheme_name="partnerOAuth",
)

Authenticated = Security(authenticate)
ReadPrincipal = Annotated[Principal, Security(authenticate, scopes=["orders:read"])]
WritePrincipal = Annotated[Principal, Security(authenticate, scopes=["orders:write"])]


async def require_json_body(request: Request) -> None:
    """Bodies are JSON: anything else is refused with 415 before it is parsed."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ProblemError(
            415,
            slug="unsupported-media-type",
            detail="Send the request body as application/json.",
            headers={"Accept": "application/json"},
        )


JsonBody = Depends(require_json_body)
