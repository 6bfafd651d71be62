"""The project's stop set: unlabeled tasks sampled once, predicted by every version.

Consecutive versions that agree on it show the model has stopped changing (stabilizing
predictions). Kept beside the project's versions under ``MODEL_DIR``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from backend import defaults
from backend.loop.services import Services
from backend.loop.state import ProjectConfig
from backend.tasks import kind_of

STOP_SET_FILE = "stop_set.json"


def ensure_stop_set(svc: Services, config: ProjectConfig, tasks: list[dict[str, Any]]) -> None:
    """Pick the project's stop set once, from the unlabeled pool, reproducibly."""
    path = svc.store.root / f"project-{config.project}" / STOP_SET_FILE
    if path.exists() or not tasks:
        return
    kind = kind_of(config.schema)
    rng = np.random.default_rng(config.project)
    chosen = rng.choice(len(tasks), size=min(defaults.STOP_SET_SIZE, len(tasks)), replace=False)
    data = {str(tasks[i]["id"]): kind.stop_set_value(tasks[i], config.schema, svc.settings.max_text_chars)
            for i in sorted(chosen)}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.chmod(0o600)
    tmp.replace(path)


def read_stop_set(svc: Services, project: int) -> dict[str, Any]:
    path = svc.store.root / f"project-{project}" / STOP_SET_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text())
    return data
