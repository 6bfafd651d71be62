"""Model artifacts under ``MODEL_DIR``: one immutable folder per project and version.

A version folder is written completely under a temporary name and then renamed, which
is atomic on one file system: a reader sees a whole artifact or none, even if the
writer is killed half way. Nothing is ever rewritten in place; the current version is a
Redis key, set only after the rename. Each process caches loaded models by version, so a
new version is picked up by every gunicorn and RQ worker without any invalidation.

A temporary folder's name says which process writes it (``.tmp-<version>@<host>@<pid>@<random>``),
so what a killed writer left behind is recognised and removed (by every write of the project
and by each worker as it starts) while another process's write in progress is left alone.
Only complete folders (model and meta file) count as versions, and only they are loaded.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import re
import shutil
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib

from backend.errors import LsActiveError
from backend.tasks import LEGACY_MODEL_MODULES, Model

log = logging.getLogger(__name__)
MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
#: The project's pool statistics (its kind's, e.g. term frequencies), beside its versions.
POOL_FILE = "pool.joblib"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
_TEMPORARY = ".tmp-"
#: A temporary left by a writer on another machine counts as abandoned after this many seconds
#: (no write takes that long; one from this machine is judged by its process id at once).
ABANDONED_AFTER = 3 * 3600.0
#: ... and a temporary file beside a version (a report being replaced: milliseconds of work).
ABANDONED_FILE_AFTER = 600.0


class ArtifactError(LsActiveError):
    """An artifact that is missing or unreadable."""


def artifact_bytes(model: Model) -> bytes:
    """A model serialized as :meth:`ArtifactStore.write` stores one, for a version's extra files."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def _alias_legacy_modules() -> None:
    """Artifacts name their classes by module path: let 0.1's paths find today's classes."""
    for old, new in LEGACY_MODEL_MODULES.items():
        if old not in sys.modules:
            sys.modules[old] = importlib.import_module(new)


class ArtifactStore:
    def __init__(self, root: Path, cache_size: int = 8) -> None:
        self.root = Path(root)
        #: One cache per file name, each of ``cache_size`` versions: a rescore loads a version's
        #: selection model beside it, and in a shared cache those loads would evict the served
        #: models ``/predict`` reads.
        self._caches: dict[str, OrderedDict[tuple[int, str], Model]] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def path(self, project: int, version: str) -> Path:
        if not _VERSION.match(version):
            raise ArtifactError(f"invalid model version name {version!r}")
        return self.root / f"project-{int(project)}" / version

    def exists(self, project: int, version: str) -> bool:
        return (self.path(project, version) / MODEL_FILE).is_file()

    def write(
        self, project: int, version: str, model: Model, meta: dict[str, Any],
        extra_files: dict[str, bytes] | None = None,
    ) -> Path:
        """Write a new version atomically; refuse to replace an existing one."""
        final = self.path(project, version)
        if final.exists():
            raise ArtifactError(f"model version {version} of project {project} already exists")
        final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.clean_temporaries(project)
        tmp = final.parent / f"{_TEMPORARY}{version}@{socket.gethostname()}@{os.getpid()}@{uuid.uuid4().hex[:8]}"
        tmp.mkdir(mode=0o700)
        try:
            joblib.dump(model, tmp / MODEL_FILE, compress=3)
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
            for name, data in (extra_files or {}).items():
                (tmp / name).write_bytes(data)
            for entry in tmp.iterdir():
                entry.chmod(0o600)  # the training file holds labeled texts: the owner's only
                with open(entry, "rb") as handle:
                    os.fsync(handle.fileno())
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def add_file(self, project: int, version: str, name: str, data: bytes) -> None:
        """Add a derived file (a report, a plot) to a published version, atomically."""
        folder = self.path(project, version)
        tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_bytes(data)
        tmp.chmod(0o600)
        os.replace(tmp, folder / name)

    def write_pool(self, project: int, stats: Any) -> None:
        """Replace the project's pool statistics atomically (a reader sees the old or the new)."""
        folder = self.root / f"project-{int(project)}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = folder / f"{_TEMPORARY}pool@{socket.gethostname()}@{os.getpid()}@{uuid.uuid4().hex[:8]}"
        try:
            joblib.dump(stats, tmp, compress=3)
            tmp.chmod(0o600)
            os.replace(tmp, folder / POOL_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def read_pool(self, project: int) -> Any | None:
        """The project's pool statistics, or None when none were saved or the file is unreadable.

        Unreadable statistics only cost the model its pool IDF, so they are logged, not raised.
        """
        path = self.root / f"project-{int(project)}" / POOL_FILE
        if not path.is_file():
            return None
        try:
            return joblib.load(path)
        except Exception as exc:  # a damaged file: the retrain falls back to the labeled texts
            log.warning("project %s: pool statistics in %s are unreadable (%s); ignoring them", project, path, exc)
            return None

    def load(self, project: int, version: str) -> Model:
        model = self._load(project, version, MODEL_FILE)
        if model is None:
            raise ArtifactError(f"model version {version} of project {project} is not in {self.root}")
        return model

    def load_extra(self, project: int, version: str, name: str) -> Model | None:
        """A second model stored beside a version (:func:`artifact_bytes`), or None if it has none."""
        return self._load(project, version, name)

    def _load(self, project: int, version: str, name: str) -> Model | None:
        cache_key = (int(project), version)
        with self._lock:
            cache = self._caches.setdefault(name, OrderedDict())
            if cache_key in cache:
                cache.move_to_end(cache_key)
                return cache[cache_key]
        path = self.path(project, version) / name
        try:
            _alias_legacy_modules()
            model = joblib.load(path)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a damaged file must not take the service down
            raise ArtifactError(f"model version {version} of project {project} is unreadable: {exc}") from exc
        if not (hasattr(model, "labels") and hasattr(model, "n_train")):
            raise ArtifactError(f"{path} does not hold an ls-active model")
        with self._lock:
            cache[cache_key] = model
            while len(cache) > self._cache_size:
                cache.popitem(last=False)
        return model

    def meta(self, project: int, version: str) -> dict[str, Any]:
        path = self.path(project, version) / META_FILE
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data

    def read_json(self, project: int, version: str, name: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads((self.path(project, version) / name).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return data

    def projects(self) -> list[int]:
        """Projects with a folder here (any version or their config file)."""
        if not self.root.is_dir():
            return []
        return sorted(int(p.name.split("-", 1)[1]) for p in self.root.glob("project-*")
                      if p.is_dir() and p.name.split("-", 1)[1].isdigit())

    def versions(self, project: int) -> list[str]:
        """The project's complete versions (model and meta written and renamed), by name."""
        folder = self.root / f"project-{int(project)}"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir()
                      if _VERSION.match(p.name) and (p / MODEL_FILE).is_file() and (p / META_FILE).is_file())

    def clean_temporaries(self, project: int) -> int:
        """Remove what killed writers left behind; they were never visible as versions.

        A temporary whose writer runs on this machine is kept while that process lives; one
        from another machine is kept for :data:`ABANDONED_AFTER` seconds.
        """
        removed = 0
        for tmp in self._temporaries(self.root / f"project-{int(project)}"):
            if _abandoned(tmp):
                if tmp.is_dir():
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    tmp.unlink(missing_ok=True)
                removed += 1
        if removed:
            log.warning("project %s: removed %d half-written artifact(s) of writers that died", project, removed)
        return removed

    def clean_all_temporaries(self) -> int:
        """:meth:`clean_temporaries` for every project (a worker does this as it starts)."""
        return sum(self.clean_temporaries(p) for p in self.projects())

    @staticmethod
    def _temporaries(folder: Path) -> Iterator[Path]:
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            if entry.name.startswith(_TEMPORARY):
                yield entry
            elif entry.is_dir() and _VERSION.match(entry.name):  # a report added to a version
                yield from (f for f in entry.glob(".*.tmp") if f.is_file())


def _abandoned(tmp: Path) -> bool:
    """Whether the process that wrote ``tmp`` is gone (see :meth:`ArtifactStore.clean_temporaries`)."""
    try:
        age = time.time() - tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    parts = tmp.name.split("@")
    if tmp.is_dir() and len(parts) == 4 and parts[1] == socket.gethostname() and parts[2].isdigit():
        return not pid_alive(int(parts[2]))
    return age > (ABANDONED_AFTER if tmp.is_dir() else ABANDONED_FILE_AFTER)


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine (one of another user's counts).

    A zombie does not run: a killed work horse or scheduler whose parent died too stays one
    until init reaps it (a second or two on some machines), and counting it as alive would
    keep its job and its scheduler locks from being recovered for minutes.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has exited and waits to be reaped (Linux's /proc; False where it is absent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # the state follows the command name, which is in parentheses and may itself hold some
    return stat[stat.rfind(")") + 2:].startswith("Z")
