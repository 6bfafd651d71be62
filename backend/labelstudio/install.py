"""Label Studio in a virtualenv of its own, installed once into a cache folder.

Label Studio pins Django and dozens of other packages that must not mix with ls-active's own
environment, so it lives apart and is started as a separate process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from backend import defaults
from backend.errors import LabelStudioError

#: The Label Studio release whose behaviour LS_PROTOCOL.md records and the tests rely on.
LABEL_STUDIO_VERSION = defaults.LABEL_STUDIO_VERSION
#: Overrides the cache folder that holds the Label Studio virtualenv.
CACHE_ENV = "LS_ACTIVE_CACHE"
DEFAULT_CACHE_DIR = Path("~/.cache/ls-active")

Installer = Callable[[Path], None]


def cache_dir_default() -> Path:
    """The cache folder: ``$LS_ACTIVE_CACHE`` or ``~/.cache/ls-active``."""
    raw = os.environ.get(CACHE_ENV, "").strip()
    return Path(raw or DEFAULT_CACHE_DIR).expanduser()


def venv_path(cache_dir: Path | None = None) -> Path:
    """Where the Label Studio virtualenv lives (it may not exist yet)."""
    base = cache_dir if cache_dir is not None else cache_dir_default()
    return base / f"label-studio-{LABEL_STUDIO_VERSION}"


def is_usable(venv: Path) -> bool:
    """True when ``venv`` has the ``label-studio`` script and its Python imports Label Studio.

    A killed or failed install leaves a folder that exists but cannot import the package; such
    a folder must be rebuilt, not trusted.
    """
    python, script = venv / "bin" / "python", venv / "bin" / "label-studio"
    if not (python.exists() and script.exists()):
        return False
    try:
        done = subprocess.run(
            [str(python), "-c", "import label_studio"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def pip_install(target: Path) -> None:
    """Create a virtualenv at ``target`` and install the pinned Label Studio into it."""
    log = target.parent / f"label-studio-{LABEL_STUDIO_VERSION}.install.log"
    with log.open("wb") as out:
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [str(target / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
             f"label-studio=={LABEL_STUDIO_VERSION}"],
        ]
        for step in steps:
            done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=defaults.LS_INSTALL_TIMEOUT, check=False)
            if done.returncode != 0:
                raise LabelStudioError(
                    f"Installing Label Studio {LABEL_STUDIO_VERSION} failed "
                    f"({' '.join(step[:4])} exited {done.returncode}); see {log}",
                    retryable=False,
                )


def _relocate_scripts(venv: Path, old: Path) -> None:
    """Point the scripts of a renamed virtualenv at its new place.

    pip writes the absolute interpreter path into each script's ``#!`` line and ``activate``
    names the folder, so after the rename they would still point at the temporary folder.
    """
    old_b, new_b = str(old).encode(), str(venv).encode()
    for path in (venv / "bin").iterdir():
        if path.is_symlink() or not path.is_file():
            continue
        content = path.read_bytes()
        if old_b in content[:4096] and b"\0" not in content[:4096]:
            path.write_bytes(content.replace(old_b, new_b))


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``; waits while another process installs."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_label_studio(
    cache_dir: Path | None = None,
    *,
    installer: Installer = pip_install,
    check: Callable[[Path], bool] = is_usable,
) -> Path:
    """Return the ``label-studio`` executable, installing Label Studio first if needed.

    Safe to call from several processes at once: a file lock serialises them and the later
    ones find the finished install. The install happens in a temporary folder that is renamed
    only once complete, so an interrupted install is never mistaken for a good one.
    ``installer`` and ``check`` exist so the slow path can be tested without a real install.
    """
    venv = venv_path(cache_dir)
    with _locked(venv.parent / f".{venv.name}.lock"):
        if check(venv):
            return venv / "bin" / "label-studio"
        for stale in venv.parent.glob(f".{venv.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = venv.parent / f".{venv.name}.tmp-{os.getpid()}"
        installer(tmp)
        if venv.is_symlink():
            venv.unlink()
        elif venv.exists():
            shutil.rmtree(venv, ignore_errors=True)
        tmp.rename(venv)
        _relocate_scripts(venv, tmp)
        if not check(venv):
            raise LabelStudioError(
                f"Label Studio was installed into {venv} but its Python cannot import it; "
                f"delete that folder and try again",
                retryable=False,
            )
        return venv / "bin" / "label-studio"
