"""Label Studio's ML backend protocol (wire-compatible with Label Studio 1.23)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis
from flask import Blueprint, Response, current_app, jsonify, request

from backend import __version__, defaults
from backend.errors import BadRequest
from backend.labelstudio.payloads import job_id, parse_event, parse_predict, parse_setup, project_id, require_object
from backend.labelstudio.safe_json import loads
from backend.loop.evaluation import METRICS_FILE
from backend.loop.options import PARAM_NAMES, for_kind, parse_overrides, resolve
from backend.loop.recovery import has_model, remember_config, restore
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.service import events
from backend.service.predict import predict as answer_predict
from backend.tasks import Schema, TaskKind, kind_of, parse_label_config
from backend.validation import InvalidOption
from strategies import UnknownStrategyError

log = logging.getLogger(__name__)
api = Blueprint("api", __name__)



def services() -> Services:
    svc: Services = current_app.extensions["ls_active"]
    return svc


def body() -> Any:
    """The JSON body within :mod:`~backend.labelstudio.safe_json`'s limits; a bad one is a 400.

    Read with a cap whether or not the client said how long it is: a chunked body over the
    limit is refused (413), never cut and acted on.
    """
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    # without a length werkzeug's stream stops quietly at the limit: read the server's own
    stream = request.environ["wsgi.input"] if request.content_length is None else request.stream
    try:
        raw = stream.read(limit + 1)
    except Exception:  # the server's parser of chunked bodies raises its own types
        raise BadRequest("the request body could not be read (malformed chunked encoding); send it with "
                         "a Content-Length") from None
    if len(raw) > limit:
        raise BadRequest(f"request body over {limit} bytes; send fewer tasks per request", status=413)
    return loads(raw)


def _redis_ok(svc: Services) -> bool:
    try:
        return bool(svc.conn.ping())
    except (redis.RedisError, OSError):
        return False


@api.get("/")
@api.get("/health")
def health() -> Any:
    svc = services()
    s = svc.settings
    redis_ok = _redis_ok(svc)
    return jsonify({
        "status": "UP",
        "model_class": "ls-active",
        "version": __version__,
        "redis": redis_ok,
        "label_studio_credentials": bool(s.label_studio_url and s.label_studio_api_key),
        "strategy": s.strategy,
        "projects": svc.scheduler.project_health() if redis_ok else {},
    })


def _strategy(svc: Services, kind: TaskKind, asked: Any) -> str:
    """``extra_params.strategy``, else ``STRATEGY`` when the kind has it, else the kind's default."""
    if asked not in (None, ""):
        try:
            return kind.strategy(str(asked)).name
        except UnknownStrategyError as exc:
            raise BadRequest(f"extra_params: {exc}") from None
    try:
        return kind.strategy(svc.settings.strategy).name
    except UnknownStrategyError:
        return kind.strategy(None).name


def _options(kind: TaskKind, params: dict[str, Any]) -> dict[str, Any]:
    """The model and loop settings a project's extra_params override (a 400 naming a bad one)."""
    try:
        return parse_overrides(params, kind.learners, kind.model_options, kind.name)
    except InvalidOption as exc:
        raise BadRequest(f"extra_params: {exc}") from None


def _audit_share(asked: Any) -> float | None:
    """``extra_params.audit_share``: a share of the queue in [0, 0.5] (0 = no audit), or unset."""
    if asked in (None, ""):
        return None
    try:
        value = float(asked)
    except (TypeError, ValueError):
        raise BadRequest(f"extra_params: audit_share must be a number like 0.1; got {str(asked)[:20]!r}") from None
    if not 0.0 <= value <= 0.5:
        raise BadRequest(f"extra_params: audit_share must be between 0 (off) and 0.5; got {value}")
    return value


@api.post("/setup")
def setup() -> Any:
    svc = services()
    req = parse_setup(body())
    schema = parse_label_config(req.schema)
    kind = kind_of(schema)
    strategy = _strategy(svc, kind, req.extra_params.get("strategy"))
    share = _audit_share(req.extra_params.get("audit_share"))
    overrides = _options(kind, req.extra_params)
    config = ProjectConfig(req.project, schema, req.hostname, req.access_token, strategy, time.time(), share,
                           overrides)
    restore(svc, req.project)
    first = remember_config(svc, config)
    if first and not has_model(svc, req.project):  # a reconnect keeps the trained versions
        svc.scheduler.on_first_setup(req.project)
    version = svc.state.current_version(req.project) or defaults.COLD_START_VERSION
    return jsonify({"model_version": version})


def _project_schema(svc: Services, project: int | None,
                    label_config: str | None) -> tuple[Schema, str, ProjectConfig | None]:
    config = svc.state.config(project) if project is not None else None
    if label_config is not None:
        schema = parse_label_config(label_config)
    elif config is not None:
        schema = config.schema
    else:
        raise BadRequest("unknown project and no label_config in the request; connect the backend first (/setup)")
    return schema, (config.strategy if config else _strategy(svc, kind_of(schema), None)), config


@api.post("/predict")
def predict() -> Any:
    svc = services()
    req = parse_predict(body(), defaults.MAX_TASKS_PER_REQUEST)
    if req.project is not None:
        restore(svc, req.project)
    schema, strategy, config = _project_schema(svc, req.project, req.label_config)
    return jsonify(answer_predict(svc, req, schema, strategy, config))


@api.post("/webhook")
def webhook() -> Any:
    return jsonify(events.handle(services(), parse_event(body())))


@api.post("/train")
def train() -> Any:
    """Older Label Studio versions call this instead of the START_TRAINING webhook."""
    data = require_object(body())
    if not isinstance(data.get("annotations", []), list):
        raise BadRequest('"annotations" must be a list of tasks')
    project = project_id(data.get("project"))
    return jsonify(services().scheduler.force_retrain(project, reason="train"))


@api.post("/job_status")
def job_status() -> Any:
    data = require_object(body())
    return jsonify(services().scheduler.job_status(job_id(data.get("job"))))


def _versions_of(svc: Services, project: int) -> list[dict[str, Any]]:
    return svc.state.versions(project)


@api.get("/versions")
@api.post("/versions")
def versions() -> Any:
    svc = services()
    raw = request.args.get("project")
    projects = [project_id(raw)] if raw else svc.state.projects()
    names = [r["version"] for p in projects for r in _versions_of(svc, p)]
    current = {p: svc.state.current_version(p) for p in projects}
    return jsonify({"versions": names, "current": {str(k): v for k, v in current.items() if v}})


def _latest_report(svc: Services, project: int, name: str) -> tuple[str | None, Any]:
    """The newest version of a project that has ``name`` in its folder (reports lag a little)."""
    for record in reversed(svc.state.versions(project)):
        version = record["version"]
        path = svc.store.path(project, version) / name
        if path.exists():
            return version, path
    return None, None


@api.get("/metrics")
def metrics() -> Any:
    svc = services()
    raw = request.args.get("project")
    projects = [project_id(raw)] if raw else svc.state.projects()
    out = {}
    for p in projects:
        version, path = _latest_report(svc, p, METRICS_FILE)
        config = svc.state.config(p)
        out[str(p)] = {
            "current_version": svc.state.current_version(p),
            "options": (for_kind(resolve(svc.settings, config.options), kind_of(config.schema).model_options)
                        if config else None),
            "options_from_project": sorted(PARAM_NAMES[k] for k in config.options if k in PARAM_NAMES)
                                    if config else [],
            "versions": _versions_of(svc, p),
            "counters": svc.state.counters(p),
            "report_version": version,
            "report": json.loads(path.read_text()) if path else None,
        }
    return jsonify({"projects": out})


@api.get("/report/<project>")
def report(project: str) -> Any:
    """The newest version's report page: learning curve, per-class table, when to stop, doubts."""
    svc = services()
    pid = project_id(project)
    version, path = _latest_report(svc, pid, "report.html")
    if path is None:
        known = svc.state.config(pid) is not None or bool(svc.state.versions(pid))
        message = ("no report yet: it appears a few seconds after the first retrain" if known
                   else "unknown project: connect ls-active in the project's Model settings first")
        page = f"<!doctype html><meta charset=utf-8><title>ls-active</title><p>Project {pid}: {message}.</p>"
        return Response(page, status=404 if not known else 200, mimetype="text/html")
    return Response(path.read_bytes(), mimetype="text/html", headers={"X-Model-Version": str(version)})
