"""Processes the tests start: each in a process group of its own, all stopped whatever happens.

A test started from a shell without a terminal inherits an ignored SIGINT, and a child that
ignores it outlives a teardown that only interrupts it. So every child here runs in a new
session and is stopped by its group: SIGTERM, a grace period, then SIGKILL. Whatever is still
running when the test session ends is stopped the same way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any

_STARTED: list[subprocess.Popen[bytes]] = []


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` in a new session, remembered for :func:`stop_all`."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(args, start_new_session=True, **kwargs)
    _STARTED.append(proc)
    return proc


def stop(proc: subprocess.Popen[bytes], grace: float = 20.0) -> int | None:
    """Stop ``proc``'s whole process group: SIGTERM, up to ``grace`` seconds, then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # what the leader left behind in its group
    return proc.returncode


def stop_all() -> None:
    while _STARTED:
        stop(_STARTED.pop())
