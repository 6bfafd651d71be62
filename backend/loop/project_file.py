"""Each project's config kept beside its models: ``MODEL_DIR/project-<id>/config.json``.

Its audit draws are kept there too (``audit_draws.json``): which tasks were drawn at random
is known only when drawn, and a lost Redis must not turn labeled audit tasks into ordinary ones.

Redis holds the config ``/setup`` sent (label config, strategy, Label Studio's address and the
token), but Redis may be lost; this file is what a job or request rebuilds it from, so a lost
Redis never needs an admin to reconnect the project. It holds a token: it is created readable
by its owner only (0600, in a 0700 folder), written to a temporary file and renamed over the
old one (a reader sees the old config or the new one, never half), and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from backend.errors import LsActiveError
from backend.loop.state import ProjectConfig

log = logging.getLogger(__name__)
CONFIG_FILE = "config.json"
AUDIT_FILE = "audit_draws.json"


def config_path(model_dir: Path, project: int) -> Path:
    return Path(model_dir) / f"project-{int(project)}" / CONFIG_FILE


def write_config(model_dir: Path, config: ProjectConfig) -> Path:
    """Write ``config`` atomically, owner-only; a config that only differs by its time is kept.

    Label Studio calls ``/setup`` whenever someone opens the project's model settings, so
    most calls bring nothing new: those cost one read.
    """
    path = config_path(model_dir, config.project)
    old = read_config(model_dir, config.project)
    if old is not None and replace(old, setup_at=config.setup_at) == config:
        return path
    return _write_private(path, config.to_json().encode())


def _write_private(path: Path, data: bytes) -> Path:
    """``data`` into ``path``, owner-only, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_config(model_dir: Path, project: int) -> ProjectConfig | None:
    """The project's kept config, or None when there is none (or it cannot be read)."""
    path = config_path(model_dir, project)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        config = ProjectConfig.from_json(raw)
    except (ValueError, KeyError, TypeError, LsActiveError) as exc:  # the message never quotes the file
        log.error("project %s: %s is unreadable (%s); reconnect the project from its Model settings",
                  project, path, type(exc).__name__)
        return None
    return config if config.project == int(project) else None


def write_audit_draws(model_dir: Path, project: int, draws: Mapping[str, Any]) -> Path:
    """Keep every audit draw of ``project`` (version -> draw number and task ids)."""
    path = Path(model_dir) / f"project-{int(project)}" / AUDIT_FILE
    return _write_private(path, json.dumps(dict(draws), sort_keys=True).encode())


def read_audit_draws(model_dir: Path, project: int) -> dict[str, Any]:
    """The kept audit draws, or none when there is no file (or it cannot be read)."""
    path = Path(model_dir) / f"project-{int(project)}" / AUDIT_FILE
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except ValueError:
        log.error("project %s: %s is unreadable; its audit draws are not known", project, path)
        return {}
    return data if isinstance(data, dict) else {}
