"""POST /oauth/token: the OAuth2 client-credentials grant for partner systems."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Header
from fastapi.responses import Response

from app.api.deps import ResourcesDep, SessionDep
from app.core.errors import ProblemError, problem_responses
from app.core.security import verify_client_secret
from app.crud import clients as crud
from app.schemas import TokenResponse

router = APIRouter(tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(status: int, error: str, detail: str, **headers: str) -> ProblemError:
    # RFC 6749 §5.2 error code as an extension member of the problem document.
    return ProblemError(
        status,
        slug=f"oauth-{error.replace('_', '-')}",
        detail=detail,
        headers={**_NO_STORE, **headers},
        extensions={"error": error, "error_description": detail},
    )


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _oauth_error(400, "invalid_request", "malformed Basic credentials") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise _oauth_error(400, "invalid_request", "malformed Basic credentials")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    summary="Get an access token (client credentials)",
    responses=problem_responses(400, 401, 422, 500),
)
async def issue_token(
    resources: ResourcesDep,
    session: SessionDep,
    grant_type: Annotated[str, Form(max_length=64, examples=["client_credentials"])],
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[
        str | None,
        Form(max_length=256, description="Space-separated; default: all the client's scopes."),
    ] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Exchange a client id and secret (form fields or HTTP Basic) for an ES256 JWT."""
    if grant_type != "client_credentials":
        raise _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    basic = _basic_credentials(authorization)
    if basic is not None and (client_id or client_secret):
        raise _oauth_error(400, "invalid_request", "use one client authentication method")
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or not client_secret:
        raise _oauth_error(400, "invalid_request", "client_id and client_secret are required")

    client = await crud.get_active_client(session, client_id=client_id)
    await session.close()
    # Verified even for unknown clients (against a dummy hash): equal timing either way.
    valid = await verify_client_secret(client.secret_hash if client else None, client_secret)
    if client is None or not valid:
        challenge = {"WWW-Authenticate": 'Basic realm="kakehashi"'} if basic else {}
        raise _oauth_error(401, "invalid_client", "client authentication failed", **challenge)

    allowed = client.scopes.split()
    requested = scope.split() if scope else allowed
    if not requested or not set(requested) <= set(allowed):
        raise _oauth_error(400, "invalid_scope", f"this client may request: {' '.join(allowed)}")
    issued = await resources.issuer.issue(subject=client.client_id, scopes=sorted(set(requested)))
    body = TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    return Response(
        content=body.model_dump_json(), media_type="application/json", headers=_NO_STORE
    )
