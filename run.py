#!/usr/bin/env python3
"""Set up and run ls-active on a machine with only Python 3.11+.

    python3 run.py demo    # Label Studio + ls-active + a connected, scored project, in one command
    python3 run.py test    # lint, type-check and the whole test suite (installs what it needs)
    python3 run.py serve   # only the backend (web + worker + embedded Redis) on 127.0.0.1:9090

Everything goes into ./.venv (re-installed when pyproject.toml changes); the tests also
install Label Studio 1.23.2 once into ~/.cache/ls-active (override: LS_ACTIVE_CACHE).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".ls-active-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py may be started by an older python3
        sys.exit(f"ls-active needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "ls-active").exists():
        return
    if not (BIN / "python").exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing ls-active and its test tools into .venv ...", flush=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(BIN / "python"), "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def run(*args: str) -> int:
    return subprocess.run(list(args), cwd=ROOT).returncode


def ensure_chromium() -> None:
    """The report tests render pages in headless Chromium (Debian's package)."""
    if shutil.which("chromium") or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print("installing chromium (for the report rendering tests) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def cmd_test(extra: list[str]) -> int:
    py = str(BIN / "python")
    ensure_chromium()
    setup = "from backend.labelstudio.install import ensure_label_studio as e; print('Label Studio:', e())"
    if run(py, "-c", setup):
        return 1
    for check in ((str(BIN / "ruff"), "check", "backend", "strategies", "tests", "benchmarks", "run.py"),
                  (str(BIN / "mypy"),)):
        if run(*check):
            return 1
    return run(py, "-m", "pytest", *extra)


def main() -> int:
    command, *extra = sys.argv[1:] or ["demo"]
    ensure_venv()
    if command == "test":
        return cmd_test(extra)
    if command == "serve":
        os.execv(str(BIN / "ls-active"), [str(BIN / "ls-active"), "serve", "--host", "127.0.0.1", *extra])
    os.execv(str(BIN / "ls-active"), [str(BIN / "ls-active"), command, *extra])


if __name__ == "__main__":
    sys.exit(main())
