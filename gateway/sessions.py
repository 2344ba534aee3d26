"""Browser sessions of the operator dashboard: the API key in a sealed, HttpOnly cookie.

A browser cannot put ``X-API-Key`` on a page load or on an ``EventSource``, so
the dashboard's login form takes the key once and answers with a cookie that
carries it sealed by the server (Fernet from pyca/cryptography: AES-128-CBC
plus HMAC-SHA256, with a timestamp checked against ``ui_session_hours``). Each
request opens the cookie and checks the key against the store again (through
the key cache), so a revoked key stops working within ``auth.CACHE_SECONDS``
even inside a session. The cookie also carries a random CSRF token that every
dashboard form posts back.

SECURITY: the cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict``
(no other site's page sends it) and ``Secure`` when the hub is reached over
https; the key inside is unreadable without the server's secret. The secret is
``PJGW_UI_SESSION_SECRET`` (stable across restarts and shared by API
processes behind one address) or, unset, a random one per process: sessions then
end when the process does. A session is accepted only where it cannot cause
writes the browser did not mean: read endpoints (``auth.read_access``) and the
dashboard's pages; its forms must carry the CSRF token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from pydantic import SecretStr

COOKIE = "pjgw_session"
MAX_COOKIE_CHARS = 2048  # a sealed 256-character key and a token fit in well under this


@dataclass(frozen=True, slots=True)
class Session:
    """What a session cookie holds. ``key`` is an API key: never log or render it."""

    key: str
    csrf: str

    def __repr__(self) -> str:  # SECURITY: never the key
        return "Session(key=***)"


class Sessions:
    """Seals and opens session cookies with one server secret."""

    def __init__(self, secret: SecretStr | None, hours: float) -> None:
        if secret is not None and secret.get_secret_value():
            digest = hashlib.sha256(b"pjgw-ui-session\0" + secret.get_secret_value().encode())
            key = base64.urlsafe_b64encode(digest.digest())
        else:
            key = Fernet.generate_key()
        self._fernet = Fernet(key)
        self.seconds = int(hours * 3600)

    def issue(self, api_key: str) -> tuple[str, Session]:
        """A new session for ``api_key``: the cookie value and what it holds."""
        session = Session(api_key, secrets.token_urlsafe(24))
        sealed = self._fernet.encrypt(json.dumps({"k": session.key, "c": session.csrf}).encode())
        return sealed.decode(), session

    def open(self, value: str) -> Session | None:
        """The session in a cookie value, or None when it is not one of ours or expired."""
        if not value or len(value) > MAX_COOKIE_CHARS:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=self.seconds))
            return Session(str(data["k"]), str(data["c"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None


def session_of(request: Request) -> Session | None:
    """The request's session (its cookie opened), or None."""
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    value = request.cookies.get(COOKIE)
    if sessions is None or value is None:
        return None
    return sessions.open(value)


def csrf_matches(session: Session, presented: str | None) -> bool:
    """Constant-time check of a form's CSRF token against its session's."""
    return presented is not None and hmac.compare_digest(session.csrf, presented)


__all__ = ["COOKIE", "Session", "Sessions", "csrf_matches", "session_of"]
