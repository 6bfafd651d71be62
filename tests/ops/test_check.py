"""``ls-active check`` against a live setup: real Label Studio, Redis, backend and RQ worker.

One connected project; the check passes on it, then each broken part (a deleted webhook, a
wrong token, a stopped worker) must fail with the fix that part needs.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from backend import cli
from backend.labelstudio.client import LabelStudioClient
from backend.loop.state import ProjectState
from backend.ops import check_parts
from tests.conftest import ROOT, Backend, backend_env
from tests.ls_fixtures import read_trec6
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

pytestmark = pytest.mark.slow


@dataclass
class Live:
    ls: LsApi
    label_studio: Any
    backend: Backend
    worker: subprocess.Popen[bytes]
    project: int
    redis_url: str
    tmp: Path


@pytest.fixture(scope="module")
def live(label_studio: Any, ls_client: LabelStudioClient, redis_url: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    tmp = tmp_path_factory.mktemp("check")
    env = backend_env(redis_url, tmp, LABEL_STUDIO_URL=label_studio.url, LABEL_STUDIO_API_KEY=label_studio.token)
    backend = Backend(env, tmp)
    with open(tmp / "worker.log", "ab") as log:
        worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=env, cwd=ROOT,
                       stdout=log, stderr=subprocess.STDOUT)
    texts, _ = read_trec6(60)
    project = ls_client.create_project("ls-active check", (ROOT / "label_config.xml").read_text())
    ls_client.import_tasks(project, [{"data": {"text": t}} for t in texts])
    ls = LsApi(label_studio.url, label_studio.token)
    ls.connect_backend(project, backend.url)
    wait_until(lambda: str(ls.project(project)["model_version"]).startswith("ls-active-"), 180, "the cold start")
    wait_until(lambda: ProjectState(conn).counters(project).get("last_event_at"), 60, "a webhook event")
    try:
        yield Live(ls, label_studio, backend, worker, project, redis_url, tmp)
    finally:
        stop(worker)
        backend.stop()
        conn.flushdb()


def run_check(live: Live, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
              *extra: str, token: str | None = None) -> tuple[int, str]:
    monkeypatch.chdir(live.tmp)  # not in a demo folder: nothing is found by itself
    monkeypatch.setenv("REDIS_URL", live.redis_url)
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    code = cli.main(["check", "--project", str(live.project), "--backend-url", live.backend.url,
                       "--ls-url", live.label_studio.url, "--token", token or live.label_studio.token, *extra])
    return code, capsys.readouterr().out


def lines_of(out: str, status: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(status)]


def test_a_working_setup_passes_every_check(live: Live, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(live, monkeypatch, capsys)
    assert code == 0, out
    passed = " ".join(lines_of(out, "PASS"))
    for name in ("Redis", "RQ worker", "backend /health", "Label Studio token", "model connection", "webhook",
                 "model_version", "webhook events"):
        assert name in passed, out
    assert not lines_of(out, "FAIL")


def test_container_health_checks_pass(live: Live, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """What the compose file's health checks run: the backend alone; a worker on this host."""
    code, out = run_check(live, monkeypatch, capsys, "--only", "backend")
    assert code == 0 and len(lines_of(out, "PASS")) == 1, out
    code, out = run_check(live, monkeypatch, capsys, "--only", "worker", "--this-host")
    assert code == 0 and "RQ worker" in out, out


def test_a_personal_access_token_passes(live: Live, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    pat = live.label_studio.personal_access_token()
    code, out = run_check(live, monkeypatch, capsys, "--only", "label-studio", token=pat)
    assert code == 0, out
    assert "accepts the personal access token" in out
    assert pat not in out


def test_a_wrong_token_fails_naming_both_fixes(live: Live, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(live, monkeypatch, capsys, token="0" * 40)
    assert code == 1
    failed = lines_of(out, "FAIL")
    assert any("Label Studio token" in line and "401" in line for line in failed), out
    assert "--enable-legacy-api-token" in out and "personal access token" in out
    assert "0" * 40 not in out, "the token must never be printed"


def test_a_deleted_webhook_fails_naming_the_fix(live: Live, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    hooks = live.ls.call("GET", f"api/webhooks/?project={live.project}")
    ours = [h for h in hooks if h["url"].startswith(live.backend.url)]
    assert ours
    for hook in ours:
        live.ls.call("DELETE", f"api/webhooks/{hook['id']}/")
    try:
        code, out = run_check(live, monkeypatch, capsys)
    finally:
        live.ls.call("POST", "api/webhooks/", json={"project": live.project, "url": f"{live.backend.url}/webhook",
                                                    "send_payload": True, "send_for_all_actions": True})
    assert code == 1
    assert any("has no webhook to" in line for line in lines_of(out, "FAIL")), out
    assert f"{live.backend.url}/webhook" in out and "Settings → Webhooks" in out


def test_a_project_without_events_fails(live: Live, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    state = ProjectState(redis.Redis.from_url(live.redis_url))
    result = check_parts.check_events(state, 987654, max_age=3600)
    assert not result.ok and "never received" in result.detail and "SSRF_PROTECTION_ENABLED" in result.fix
    assert check_parts.check_events(state, live.project, max_age=3600).ok


def test_a_stopped_worker_fails_naming_the_fix(live: Live, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    live.worker.send_signal(signal.SIGTERM)
    live.worker.wait(timeout=60)
    deadline = time.monotonic() + 30
    code, out = run_check(live, monkeypatch, capsys, "--only", "worker")
    while code == 0 and time.monotonic() < deadline:  # RQ deregisters on its way out
        time.sleep(1)
        code, out = run_check(live, monkeypatch, capsys, "--only", "worker")
    assert code == 1
    assert any("RQ worker" in line for line in lines_of(out, "FAIL")), out
    assert "ls-active worker" in out


def test_unknown_part_is_a_usage_error(live: Live, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", live.redis_url)
    assert cli.main(["check", "--only", "everything"]) == 2
    assert "choose from" in capsys.readouterr().err


def test_an_unreachable_backend_fails(tmp_path: Path) -> None:
    from backend.settings import Settings

    result = check_parts.check_backend("http://127.0.0.1:9", Settings())
    assert not result.ok and "ls-active serve" in result.fix
