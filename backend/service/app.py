"""The Flask application factory: configuration, auth and JSON errors around the routes.

Handlers are thin (see ``routes.py``): ``/health`` and ``/setup`` read and write state,
``/predict`` only scores, ``/webhook`` counts and enqueues. Every error leaves as JSON
``{"error": ...}`` with a 4xx/5xx status; no traceback ever reaches Label Studio.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

import redis
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from backend.errors import BadRequest, LsActiveError
from backend.loop.services import Services
from backend.service.routes import api
from backend.settings import Settings

log = logging.getLogger(__name__)


#: Longest error message sent back (and logged): bad input is quoted, never echoed whole.
MAX_MESSAGE_CHARS = 1000
#: Sent with every answer; the report page is the only HTML, and it needs no script at all.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
}
#: POST bodies are JSON: a browser's cross-site form or text/plain POST is refused before it acts.
JSON_TYPES = ("application/json",)


def _error(message: str, status: int, **extra: Any) -> tuple[Response, int]:
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + " ..."
    return jsonify({"error": message, **extra}), status


def _check_content_type() -> tuple[Response, int] | None:
    if request.method != "POST" or request.mimetype in JSON_TYPES:
        return None
    return _error(f"send the body as JSON with Content-Type: application/json (got {request.mimetype or 'none'!r})",
                  415)


def _check_auth(settings: Settings) -> tuple[Response, int] | None:
    if not settings.basic_auth:
        return None
    auth = request.authorization
    ok = (
        auth is not None
        and auth.type == "basic"
        and hmac.compare_digest((auth.username or "").encode(), settings.basic_auth_user.encode())
        and hmac.compare_digest((auth.password or "").encode(), settings.basic_auth_pass.encode())
    )
    if ok:
        return None
    response, status = _error("authentication required: use the backend's basic auth user and password", 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="ls-active"'
    return response, status


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app; ``services`` lets tests and the CLI share one Redis connection."""
    settings = settings or Settings.from_env()
    services = services or Services.create(settings)
    app = Flask("ls-active")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["ls_active"] = services
    app.register_blueprint(api)

    @app.before_request
    def authenticate() -> Any:
        return _check_auth(settings) or _check_content_type()

    @app.after_request
    def secure(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Any:
        log.info("rejected %s %s: %s", request.method, request.path, exc.message[:300])
        return _error(exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status == 413:
            return _error(f"request body over {settings.max_body_bytes} bytes; send fewer tasks per request", 413)
        return _error(f"{exc.name}: {exc.description}", status)

    @app.errorhandler(LsActiveError)
    def known_error(exc: LsActiveError) -> Any:
        log.warning("%s %s failed: %s", request.method, request.path, str(exc)[:300])
        return _error(str(exc), 503 if "Redis" in str(exc) else 500)

    @app.errorhandler(redis.RedisError)
    def redis_error(exc: redis.RedisError) -> Any:
        log.warning("%s %s: Redis failed: %s", request.method, request.path, str(exc)[:300])
        text = str(exc)
        if "OOM" in text or "maxmemory" in text:
            hint = "Redis is full (REDIS_MAXMEMORY); raise the cap or free memory"
        elif isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            hint = "Redis is unreachable; check REDIS_URL and that Redis runs"
        else:
            hint = f"Redis refused the request ({text[:200]})"
        return _error(f"{hint}; nothing was stored, send the request again", 503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return _error(f"internal error ({type(exc).__name__}); the backend log has the details", 500)

    return app
