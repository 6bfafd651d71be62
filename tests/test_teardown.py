"""A test run stopped with SIGTERM stops what it started (tests/conftest.py, tests/processes.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SLEEPER_TEST = '''
import sys, time
from tests.processes import spawn

def test_sleeps(tmp_path):
    child = spawn([sys.executable, "-c", "import time; time.sleep(600)"])
    (tmp_path.parent / "child.pid").write_text(str(child.pid))
    time.sleep(600)
'''


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone in all but name
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_sigterm_to_pytest_stops_the_processes_its_tests_started(tmp_path: Path) -> None:
    (tmp_path / "test_sleeper.py").write_text(SLEEPER_TEST)
    base = tmp_path / "base"
    run = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={base}",
                            "-p", "tests.conftest", str(tmp_path / "test_sleeper.py")],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
    pid_file = base / "child.pid"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert pid_file.exists(), run.communicate(timeout=30)[0]
    child = int(pid_file.read_text())
    assert alive(child)
    run.send_signal(signal.SIGTERM)
    output = run.communicate(timeout=120)[0].decode()
    deadline = time.monotonic() + 30
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(child), output
