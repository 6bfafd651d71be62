"""Stalled clients cost the service nothing and are closed: the real gunicorn, 100 of them.

Half stop in the middle of the request head, half after the head with most of the body
missing (what a slowloris client does). Meanwhile ``/health`` and ``/webhook`` must answer
at once, and the server must close every stalled connection on its own.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from tests.conftest import Backend, backend_env

STALLED = 100
#: Above the keep-alive (5 s) that bounds the head, so each kind of stall meets its own limit.
CLIENT_TIMEOUT = 8


@pytest.fixture()
def patient(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Iterator[Backend]:
    server = Backend(backend_env(redis_url, tmp_path, CLIENT_TIMEOUT=str(CLIENT_TIMEOUT)), tmp_path)
    yield server
    server.stop()


def stall(backend: Backend, n: int) -> list[socket.socket]:
    body = json.dumps({"action": "ANNOTATION_CREATED", "project": 1}).encode()
    sockets = []
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", backend.port), timeout=10)
        if i % 2:
            sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl")
        else:
            sock.sendall(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n" + body[:10])
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.2)
    try:
        data = sock.recv(65536)
    except TimeoutError:
        return False
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 4")


def test_stalled_connections_neither_block_others_nor_stay_open(patient: Backend) -> None:
    sockets = stall(patient, STALLED)
    try:
        for _ in range(5):
            started = time.monotonic()
            assert requests.get(patient.url + "/health", timeout=10).status_code == 200
            answer = requests.post(patient.url + "/webhook", json={"action": "PROJECT_UPDATED", "project": 3},
                                   timeout=10)
            assert answer.status_code == 200
            assert time.monotonic() - started < 2.0, "the service waited for the stalled clients"
        deadline = time.monotonic() + 25  # keep-alive (5 s) for the heads, CLIENT_TIMEOUT for the bodies
        open_ = set(range(len(sockets)))
        while open_ and time.monotonic() < deadline:
            open_ -= {i for i in open_ if closed_by_server(sockets[i])}
            time.sleep(0.5)
        assert not open_, f"{len(open_)} stalled connections are still open"
    finally:
        for sock in sockets:
            sock.close()
