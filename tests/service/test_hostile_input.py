"""Bad and hostile requests to the real service (gunicorn, real Redis): a clear 4xx, never a 500.

Each case is one that once got a 500 with a traceback, an answer as big as the request, or
acted on a body it should have refused.
"""

from __future__ import annotations

import json
import socket

import pytest
import redis
import requests

from backend.loop.state import ProjectState
from tests.conftest import Backend
from tests.service.test_api import SETUP, post, setup_project

CASES: dict[str, tuple[str, bytes | str]] = {
    "nested 5,000 deep": ("/webhook", "[" * 5000 + "]" * 5000),
    "an object nested 2,000 deep": ("/setup", '{"a":' * 2000 + "1" + "}" * 2000),
    "a 5,000-digit integer": ("/webhook", '{"action": "ANNOTATION_CREATED", "project": ' + "9" * 5000 + "}"),
    "NaN": ("/predict", '{"tasks": [], "project": NaN}'),
    "a lone surrogate as action": ("/webhook", '{"action": "\\ud800", "project": 1}'),
    "a superscript digit as project": ("/setup", json.dumps({**SETUP, "project": "²"})),
    "a 300-digit project": ("/setup", json.dumps({**SETUP, "project": "1" * 300})),
    "a job id with a space": ("/job_status", '{"job": "a b"}'),
    "a job id of 10,000 characters": ("/job_status", json.dumps({"job": "j" * 10_000})),
    "extra_params text nested deep": ("/setup", json.dumps({**SETUP, "extra_params": "[" * 3000 + "]" * 3000})),
    "a hostname that is not an address": ("/setup", json.dumps({**SETUP, "hostname": "file:///etc/passwd"})),
    "a hostname with credentials": ("/setup", json.dumps({**SETUP, "hostname": "http://user:pw@evil.example"})),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_a_clear_400(backend: Backend, redis_conn: redis.Redis, name: str) -> None:
    path, body = CASES[name]
    answer = post(backend, path, body)
    assert answer.status_code == 400, (name, answer.status_code, answer.text[:300])
    error = answer.json()["error"]
    assert 20 < len(error) < 400, error
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("path", ["/report/²", "/report/" + "1" * 300, "/metrics?project=²",
                                  "/versions?project=" + "7" * 300])
def test_bad_project_ids_in_urls_are_400(backend: Backend, path: str) -> None:
    answer = requests.get(backend.url + path, timeout=30)
    assert answer.status_code == 400, (path, answer.text[:200])
    assert "project" in answer.json()["error"]


def test_an_overlong_url_is_refused_by_the_server(backend: Backend) -> None:
    answer = requests.get(backend.url + "/versions?project=" + "7" * 5000, timeout=30)
    assert answer.status_code == 414


def test_a_huge_value_is_quoted_not_echoed(backend: Backend, redis_conn: redis.Redis) -> None:
    answer = post(backend, "/setup", json.dumps({**SETUP, "project": "x" * 5_000_000}))
    assert answer.status_code == 400
    assert len(answer.content) < 1000, "the error must quote a short prefix only"
    assert "characters" in answer.json()["error"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""])
def test_a_post_that_is_not_json_is_415(backend: Backend, redis_conn: redis.Redis, content_type: str) -> None:
    """A browser's cross-site form or text/plain POST must not reach the handlers."""
    body = json.dumps({"action": "START_TRAINING", "project": 5})
    headers = {"Content-Type": content_type} if content_type else {}
    answer = requests.post(backend.url + "/webhook", data=body.encode(), headers=headers, timeout=30)
    assert answer.status_code == 415, answer.text
    assert "application/json" in answer.json()["error"]
    assert not ProjectState(redis_conn).counters(5), "a refused request must not be counted"


def raw_request(backend: Backend, head: str, body: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (chunked bodies that requests would not build); the status and the rest."""
    with socket.create_connection(("127.0.0.1", backend.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data


def chunked(payload: bytes, size: int = 65536) -> bytes:
    parts = [f"{len(payload[i:i + size]):x}\r\n".encode() + payload[i:i + size] + b"\r\n"
             for i in range(0, len(payload), size)]
    return b"".join(parts) + b"0\r\n\r\n"


HEAD = ("POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")


def test_a_chunked_body_over_the_limit_is_refused_not_cut(backend: Backend, redis_conn: redis.Redis) -> None:
    limit = 64 * 1024 * 1024
    prefix = json.dumps({"action": "START_TRAINING", "project": 6}).encode()
    status, answer = raw_request(backend, HEAD, chunked(prefix + b" " * (limit + 10)))
    assert status == 413, answer[:300]
    assert not ProjectState(redis_conn).counters(6), "the valid prefix must not have been acted on"
    status, _ = raw_request(backend, HEAD, chunked(prefix))  # the same, within the limit, works
    assert status == 200


def test_a_malformed_chunk_size_is_a_client_error(backend: Backend) -> None:
    status, answer = raw_request(backend, HEAD, b"zz\r\n{}\r\n0\r\n\r\n")
    assert 400 <= status < 500, answer[:300]


def test_answers_carry_security_headers(backend: Backend, redis_conn: redis.Redis) -> None:
    setup_project(backend, 9)
    for path in ("/report/9", "/health"):
        answer = requests.get(backend.url + path, timeout=30)
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]


def test_the_secret_never_comes_back(backend: Backend, redis_conn: redis.Redis) -> None:
    token = "T0KEN" + "s" * 35
    assert post(backend, "/setup", {**SETUP, "project": "12.1", "access_token": token}).status_code == 200
    for path in ("/health", "/metrics", "/versions", "/report/12"):
        text = requests.get(backend.url + path, timeout=30).text
        assert token not in text, path
