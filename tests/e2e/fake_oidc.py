"""A tiny OpenID Connect provider for the browser tests: the province's identity service, in a thread.

It serves the discovery document, its signing keys, an authorization endpoint that signs the
browser in at once as ``provider.username`` (no form), a token endpoint that checks the client's
secret, the code and its PKCE verifier and answers with an RS256 ID token, and an end-session
endpoint that sends the browser back where the client asks.

    with FakeProvider(client_id="caremap", client_secret="s3cret") as provider:
        provider.username = "someone"       # who the next sign-in is
        provider.metadata_url               # for the client's server_metadata_url
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "test-signing-key"
CODE_LIFETIME_S = 60


@dataclass
class _Grant:
    """What an authorization code stands for until the client redeems it."""

    redirect_uri: str
    nonce: str | None
    username: str | None
    challenge: str | None
    method: str | None
    issued: float = field(default_factory=time.time)


class FakeProvider:
    """The provider on a free port of 127.0.0.1, reached by the name ``host`` (default localhost)."""

    def __init__(self, *, client_id: str, client_secret: str, host: str = "localhost") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        # Who the next sign-in is: the value of preferred_username (None: the claim is left out).
        self.username: str | None = None
        self.subject_prefix = "province-"
        self.authorizations: list[dict[str, str]] = []
        self.token_requests = 0
        self.logouts: list[dict[str, str]] = []
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-oidc", daemon=True)

    # --- addresses ------------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "sub", "aud", "iat", "exp", "nonce", "preferred_username", "name"],
        }

    # --- life -----------------------------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- tokens ---------------------------------------------------------------------------------

    def id_token(self, *, username: str | None, nonce: str | None, iat: float | None = None, **extra: Any) -> str:
        """A signed ID token for ``username`` (the subject is derived from it)."""
        issued = int(time.time() if iat is None else iat)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": self.subject_prefix + hashlib.sha256((username or "").encode()).hexdigest()[:16],
            "iat": issued,
            "exp": issued + 600,
            "name": username or "",
        }
        if nonce:
            claims["nonce"] = nonce
        if username is not None:
            claims["preferred_username"] = username
        claims.update(extra)
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, self._key)

    def _redeem(self, form: dict[str, str], authorization: str | None) -> tuple[int, dict[str, Any]]:
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
            self.token_requests += 1
        if grant is None or time.time() - grant.issued > CODE_LIFETIME_S:
            return 400, {"error": "invalid_grant"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri differs"}
        if grant.challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant.method != "S256" or digest != grant.challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 600,
            "scope": "openid profile email",
            "id_token": self.id_token(username=grant.username, nonce=grant.nonce),
        }

    # --- HTTP -----------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _redirect(self, url: str) -> None:
                self.send_response(302)
                self.send_header("Location", url)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    self._json(200, provider.metadata())
                elif parts.path == "/jwks":
                    self._json(200, {"keys": [provider._key.as_dict(private=False)]})
                elif parts.path == "/authorize":
                    self._authorize(query)
                elif parts.path == "/logout":
                    provider.logouts.append(query)
                    target = query.get("post_logout_redirect_uri")
                    if target:
                        self._redirect(target)
                    else:
                        self._json(200, {"logged_out": True})
                else:
                    self._json(404, {"error": "not_found"})

            def _authorize(self, query: dict[str, str]) -> None:
                provider.authorizations.append(query)
                redirect_uri = query.get("redirect_uri", "")
                if query.get("client_id") != provider.client_id or not redirect_uri:
                    self._json(400, {"error": "invalid_request"})
                    return
                if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
                    refusal = {"error": "invalid_request", "state": query.get("state", "")}
                    self._redirect(f"{redirect_uri}?{urlencode(refusal)}")
                    return
                code = secrets.token_urlsafe(24)
                with provider._lock:
                    provider._grants[code] = _Grant(
                        redirect_uri=redirect_uri,
                        nonce=query.get("nonce"),
                        username=provider.username,
                        challenge=query.get("code_challenge"),
                        method=query.get("code_challenge_method"),
                    )
                self._redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")

            def do_POST(self) -> None:
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = provider._redeem(form, self.headers.get("Authorization"))
                self._json(status, body)

        return Handler
