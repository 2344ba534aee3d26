"""Who may see and act on the dashboard, and the login that gives a browser a session.

Reading a page takes any valid API key (client, admin or notary); an operator
action (a ``POST`` under ``/ui``) takes an admin key. A key comes in the
``X-API-Key`` header (scripts, tests) or in the session cookie the login form
sets (``gateway.sessions``). A form posted with a session must carry the
session's CSRF token; one posted with a key header needs none (another site's
page cannot set that header).

A page asked for without a key redirects to ``/ui/login``; a POST without one is
401, and with a key of another role 403, both as HTML.

The login form is urlencoded; it is parsed with the standard library
(``urllib.parse``) rather than adding python-multipart for one field.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.auth import Principal, Role, authenticate, presented_key, principal_of
from gateway.problems import Unauthorized
from gateway.sessions import COOKIE, csrf_matches, session_of
from gateway.ui.render import HEADERS, page

router = APIRouter(include_in_schema=False)

MAX_FORM_BYTES = 4096


class LoginRequired(Exception):
    """A page was asked for without a (valid) key: the browser goes to the login form."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class ActionRefused(Exception):
    """An operator action refused: 401 without a key, 403 with another role or no token."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def viewer(request: Request) -> Principal:
    """The caller of a page: any valid key, else a redirect to the login form."""
    try:
        principal = authenticate(request, session=True)
    except Unauthorized:
        principal = None
    if principal is None:
        raise LoginRequired(request.url.path)
    return principal


async def form_of(request: Request) -> dict[str, str]:
    """A urlencoded form body (bounded), parsed once per request."""
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if len(body) > MAX_FORM_BYTES or (body and kind != "application/x-www-form-urlencoded"):
        raise ActionRefused(400, "a dashboard form is a short urlencoded body")
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=16))
    except (UnicodeDecodeError, ValueError):
        raise ActionRefused(400, "the form does not parse") from None
    request.state.form = form
    return form


async def operator(request: Request) -> Principal:
    """The caller of an operator action: an admin key; with a session, a matching CSRF token."""
    return await _acting(request, frozenset({Role.ADMIN}), "admin")


async def supervisor(request: Request) -> Principal:
    """The caller of a supervisor's action (release or reject a held transfer): a supervisor
    or admin key; with a session, a matching CSRF token."""
    return await _acting(request, frozenset({Role.ADMIN, Role.SUPERVISOR}), "supervisor")


async def _acting(request: Request, roles: frozenset[Role], needs: str) -> Principal:
    header_key = presented_key(request)
    try:
        principal = authenticate(request, session=True)
    except Unauthorized as err:
        raise ActionRefused(401, str(err)) from None
    if principal is None:
        raise ActionRefused(401, f"operator actions need an {needs} key: sign in first")
    if principal.role not in roles:
        raise ActionRefused(403, f"a {principal.role} key may look but not act (needs {needs})")
    if header_key is None:
        session = session_of(request)
        form = await form_of(request)
        if session is None or not csrf_matches(session, form.get("csrf")):
            raise ActionRefused(403, "the form's CSRF token is missing or stale: reload the page")
    return principal


@router.get("/ui/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/ui") -> HTMLResponse:
    return page(request, "login.html", None, next=_local(next), error="")


@router.post("/ui/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.url.netloc:
        return page(request, "login.html", None, 403, next="/ui", error="cross-site login refused")
    try:
        form = await form_of(request)
    except ActionRefused as err:
        return page(request, "login.html", None, err.status, next="/ui", error=err.message)
    key = form.get("api_key", "").strip()
    target = _local(form.get("next", "/ui"))
    try:
        principal_of(request, key)
    except Unauthorized as err:
        return page(request, "login.html", None, 401, next=target, error=str(err))
    value, _ = request.app.state.sessions.issue(key)
    response = RedirectResponse(target, status_code=303, headers=HEADERS)
    response.set_cookie(
        COOKIE,
        value,
        max_age=request.app.state.sessions.seconds,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/ui/logout")
async def logout(request: Request, _: Annotated[Principal, Depends(viewer)]) -> Response:
    session = session_of(request)
    form = await form_of(request)
    if session is not None and not csrf_matches(session, form.get("csrf")):
        raise ActionRefused(403, "the form's CSRF token is missing or stale: reload the page")
    response = RedirectResponse("/ui/login", status_code=303, headers=HEADERS)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


def _local(target: str) -> str:
    """Only a dashboard path is a place to go after login (no open redirect)."""
    if target.startswith("/ui") and not target.startswith("//") and "\\" not in target:
        return target
    return "/ui"


def install_handlers(app: FastAPI) -> None:
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/ui/login?next=" + quote(_local(exc.path), safe="/")
        return RedirectResponse(target, status_code=303, headers=HEADERS)

    async def refused(request: Request, exc: ActionRefused) -> Response:
        return page(request, "refused.html", None, exc.status, message=exc.message)

    app.add_exception_handler(LoginRequired, login_required)  # type: ignore[arg-type]
    app.add_exception_handler(ActionRefused, refused)  # type: ignore[arg-type]


__all__ = ["ActionRefused", "LoginRequired", "install_handlers", "operator", "router", "viewer"]
