"""The HTTP side of the app: the login cookie's routes and the security headers on every response.

Streamlit's pages talk over a websocket, which cannot set a cookie; so after a login the page
loads ``/session/claim?code=…`` in an invisible frame, and that response sets the HttpOnly
cookie from a one-time code (care/auth.py). ``/session/end`` clears it at logout. Every
response, Streamlit's own included, gets the headers of ``SecurityHeaders``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from care import auth
from care.domain.tiles import TileSource, configured_tiles
from care.queries.map import every_tiles_setting
from db.session import get_engine, reading, transaction

COOKIE = "caremap_session"
# Over HTTPS the cookie takes the __Host- prefix: the browser then insists on Secure, Path=/ and no Domain.
SECURE_COOKIE = "__Host-caremap_session"
SECURE_ENV = "CARE_COOKIE_SECURE"
FRAME_ANCESTORS_ENV = "CARE_FRAME_ANCESTORS"
CLAIM_PATH = "/session/claim"
END_PATH = "/session/end"
# Documents Streamlit shows inside the page's own frames (components, the cookie routes).
_FRAMED_PREFIXES = ("/component/", "/_stcore/", "/session/", "/app/static/")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.*-]+(:\d+)?")
TILE_HOSTS_TTL_S = 30.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --- the cookie -------------------------------------------------------------------------------


def secure_request(request: Request) -> bool:
    """Whether the browser reached the app over HTTPS (uvicorn reads X-Forwarded-Proto from a trusted proxy)."""
    return request.url.scheme == "https" or os.environ.get(SECURE_ENV, "").strip() == "1"


def cookie_token(cookies: MutableMapping[str, str] | dict[str, str] | Any) -> str | None:
    """The login token a request's cookies carry, if any."""
    for name in (SECURE_COOKIE, COOKIE):
        value = cookies.get(name)
        if value:
            return str(value)
    return None


def _same_origin(request: Request) -> bool:
    # The browser says where the request came from; a link from another site (a login-CSRF
    # attempt with someone else's code) says "cross-site" and gets nothing.
    return request.headers.get("sec-fetch-site") == "same-origin"


def _blank() -> Response:
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _claim(code: str) -> str | None:
    with transaction(get_engine()) as session:
        return auth.claim_handoff(session, code=code)


async def claim(request: Request) -> Response:
    """Set the HttpOnly session cookie from a one-time code the logged-in page holds."""
    if not _same_origin(request):
        return _blank()
    token = await run_in_threadpool(_claim, request.query_params.get("code", ""))
    response = _blank()
    if token is None:
        return response
    secure = secure_request(request)
    response.set_cookie(
        SECURE_COOKIE if secure else COOKIE,
        token,
        max_age=int(auth.ABSOLUTE_TIMEOUT.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    return response


def _end(token: str) -> None:
    with transaction(get_engine()) as session:
        auth.end_session(session, token=token)


async def end(request: Request) -> Response:
    """Log out the cookie's session and clear the cookie, if it is the one the page names (``?tag=``)."""
    response = _blank()
    token = cookie_token(request.cookies)
    if not _same_origin(request) or token is None or request.query_params.get("tag") != auth.token_tag(token):
        return response
    await run_in_threadpool(_end, token)
    for name in (SECURE_COOKIE, COOKIE):
        response.delete_cookie(name, path="/", secure=name == SECURE_COOKIE, httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    """The app's own HTTP routes."""
    return [Route(CLAIM_PATH, claim, methods=["GET"]), Route(END_PATH, end, methods=["GET"])]


# --- the headers ------------------------------------------------------------------------------


def _inline_script_hashes(index_html: Path) -> list[str]:
    """CSP hashes of the inline scripts in Streamlit's own index.html (it has one, a flag)."""
    try:
        html = index_html.read_text(encoding="utf-8")
    except OSError:
        return []
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts]


def _streamlit_index() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("streamlit")
    origin = Path(spec.origin) if spec and spec.origin else Path()
    return origin.parent / "static" / "index.html"


def tile_origins(source: TileSource) -> list[str]:
    """The origins a tile source's images come from (``{s}`` subdomains as a wildcard host)."""
    origins: list[str] = []
    for layer in source.layers:
        parts = urlsplit(layer.url.replace("{s}", "x"))
        if not parts.scheme:
            continue
        host = urlsplit(layer.url).netloc
        if "{s}" in host:
            host = "*." + host.split(".", 1)[1] if "." in host else host
        origin = f"{parts.scheme}://{host.replace('{s}', '')}"
        if _ORIGIN.fullmatch(origin) and origin not in origins:
            origins.append(origin)
    return origins


@dataclass(frozen=True)
class Policy:
    """The header values, built once per tile configuration."""

    headers: tuple[tuple[bytes, bytes], ...]
    framed_headers: tuple[tuple[bytes, bytes], ...]
    # Frames whose documents run one known inline script (the map component): path prefix -> headers.
    scripted: tuple[tuple[str, tuple[tuple[bytes, bytes], ...]], ...] = ()

    def for_path(self, path: str) -> tuple[tuple[bytes, bytes], ...]:
        """The headers of the document at ``path``."""
        for prefix, headers in self.scripted:
            if path.startswith(prefix):
                return headers
        return self.framed_headers if path.startswith(_FRAMED_PREFIXES) else self.headers


def content_security_policy(*, script_hashes: Iterable[str], tile_hosts: Iterable[str], frame_ancestors: str) -> str:
    """Only the app's own origin for scripts, styles, frames and connections; tiles for images."""
    images = " ".join(["'self'", "data:", "blob:", *tile_hosts])
    return "; ".join(
        [
            "default-src 'self'",
            # 'wasm-unsafe-eval' lets Streamlit compile its WebAssembly (Arrow tables); it allows no
            # JavaScript eval.
            "script-src " + " ".join(["'self'", "'wasm-unsafe-eval'", *script_hashes]),
            # Streamlit's components style themselves with inline style attributes and <style> tags.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "frame-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "magnetometer=(), gyroscope=(), accelerometer=(), display-capture=(), interest-cohort=()"
)


def _portal() -> str | None:
    """The intranet portal allowed to frame the app (CARE_FRAME_ANCESTORS), if configured and well-formed."""
    value = os.environ.get(FRAME_ANCESTORS_ENV, "").strip()
    origins = value.split()
    if origins and all(_ORIGIN.fullmatch(o) for o in origins):
        return " ".join(origins)
    return None


def build_policy(tile_hosts: Iterable[str], frame_scripts: Mapping[str, Sequence[str]] | None = None) -> Policy:
    """The headers for top-level documents and for documents the app frames itself.

    ``frame_scripts`` names, per path prefix of a framed document, the CSP hashes of the inline
    scripts it may run: exactly those texts, nothing else inline.
    """
    hashes = _inline_script_hashes(_streamlit_index())
    hosts = list(tile_hosts)
    portal = _portal()
    common = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"permissions-policy", PERMISSIONS_POLICY.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]

    def with_ancestors(
        ancestors: str, frame_options: bytes | None, scripts: Sequence[str] = ()
    ) -> tuple[tuple[bytes, bytes], ...]:
        csp = content_security_policy(script_hashes=[*hashes, *scripts], tile_hosts=hosts, frame_ancestors=ancestors)
        extra = [(b"x-frame-options", frame_options)] if frame_options else []
        return (*common, (b"content-security-policy", csp.encode()), *extra)

    top = with_ancestors(f"'self' {portal}" if portal else "'none'", None if portal else b"DENY")
    framed_ancestors = f"'self' {portal}" if portal else "'self'"
    framed_options = None if portal else b"SAMEORIGIN"
    framed = with_ancestors(framed_ancestors, framed_options)
    scripted = tuple(
        (prefix, with_ancestors(framed_ancestors, framed_options, scripts))
        for prefix, scripts in (frame_scripts or {}).items()
    )
    return Policy(top, framed, scripted)


def _tile_settings() -> list[str | None]:

    try:
        with reading(get_engine()) as session:
            return every_tiles_setting(session)
    except Exception:  # noqa: BLE001 - before the first migration there is no settings table
        return [None]


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTTP response (websockets pass through)."""

    def __init__(self, app: ASGIApp, frame_scripts: Mapping[str, Sequence[str]] | None = None) -> None:
        self.app = app
        self._frame_scripts = dict(frame_scripts or {})
        self._policy: Policy | None = None
        self._hosts: tuple[str, ...] = ()
        self._read_at = 0.0

    async def _current(self) -> Policy:
        # The tile host is an administrator's setting: re-read it now and then, not per request.
        if self._policy is None or time.monotonic() - self._read_at > TILE_HOSTS_TTL_S:
            # Every county's basemap host: one process serves the users of every county.
            settings = await run_in_threadpool(_tile_settings)
            hosts = tuple(sorted({o for s in settings for o in tile_origins(configured_tiles(s))}))
            if self._policy is None or hosts != self._hosts:
                self._policy, self._hosts = build_policy(hosts, self._frame_scripts), hosts
            self._read_at = time.monotonic()
        return self._policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = await self._current()
        path = str(scope.get("path", ""))
        add = policy.for_path(path)
        secure = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in add}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                headers.extend(add)
                if secure:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
