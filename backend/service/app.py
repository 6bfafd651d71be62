"""The Flask application factory: configuration, auth and JSON errors around the routes.

Handlers are thin (see ``routes.py``): ``/health`` and ``/setup`` read and write state,
``/predict`` only scores, ``/webhook`` counts and enqueues. Every error leaves as JSON
``{"error": ...}`` with a 4xx/5xx status; no traceback ever reaches Label Studio.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from backend.errors import BadRequest, LsActiveError
from backend.loop.services import Services
from backend.service.routes import api
from backend.settings import Settings

log = logging.getLogger(__name__)


def _error(message: str, status: int, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **extra}), status


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
        return _check_auth(settings)

    @app.errorhandler(BadRequest)
    def bad_request(exc: BadRequest) -> Any:
        log.info("rejected %s %s: %s", request.method, request.path, exc.message)
        return _error(exc.message, exc.status)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status == 413:
            return _error(f"request body over {settings.max_body_bytes} bytes; send fewer tasks per request", 413)
        return _error(f"{exc.name}: {exc.description}", status)

    @app.errorhandler(LsActiveError)
    def known_error(exc: LsActiveError) -> Any:
        log.warning("%s %s failed: %s", request.method, request.path, exc)
        return _error(str(exc), 503 if "Redis" in str(exc) else 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return _error(f"internal error ({type(exc).__name__}); the backend log has the details", 500)

    return app
