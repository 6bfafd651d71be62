"""``ls-active demo`` end to end: its own Label Studio, backend, worker and Redis, as a user runs it.

The demo starts as a subprocess on free ports with 300 texts and ``RETRAIN_EVERY=5``; the
tests then look through Label Studio's API as an admin would: a connected project, tasks
served least-confident first after a few labels, Ctrl-C stopping every process, and a
second run reusing the project. The first start of Label Studio takes 30-170 s here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from backend.loop.redis_server import socket_path
from backend.ops import demo_data
from backend.ops.demo import choose_port
from backend.ops.demo_data import DemoDataError, load_demo_data
from backend.tasks import parse_label_config
from tests.conftest import ROOT, free_port
from tests.ls_fixtures import choices_result, read_trec6
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

LIMIT = 300
READY = re.compile(r"ready in ([\d.]+) s: open (\S+)")
#: Label Studio's first start (database migrations) plus the cold start, on a loaded machine.
READY_TIMEOUT = 900.0


# -- what the demo imports (fast) --------------------------------------------------------------

def test_default_data_is_trec_with_the_repository_config() -> None:
    data = load_demo_data(None, limit=50)
    assert data.name == "trec6" and len(data.texts) == 50
    assert data.label_config == (ROOT / "label_config.xml").read_text()
    assert data.tasks()[0] == {"data": {"text": data.texts[0]}}


def test_without_the_shared_data_a_bundled_sample_and_the_embedded_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_data, "DEFAULT_DATA", Path("/nonexistent/trec6.csv"))
    monkeypatch.setattr(demo_data, "REPO_ROOT", Path("/nonexistent"))
    data = load_demo_data(None, limit=3000)
    assert 300 <= len(data.texts) < 3000 and len(set(data.texts)) == len(data.texts)
    embedded = parse_label_config(data.label_config)
    assert embedded == parse_label_config((ROOT / "label_config.xml").read_text())


def test_a_users_csv_brings_its_classes(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("body,topic\nGreat phone,tech\nLovely soup,food\n,food\nFast laptop,tech\n")
    data = load_demo_data(path, text_column="body", label_column="topic")
    assert data.texts == ("Great phone", "Lovely soup", "Fast laptop") and data.name == "reviews"
    schema = parse_label_config(data.label_config)
    assert schema.labels == ("food", "tech") and not schema.multilabel and schema.value_key == "text"


def test_a_users_json_with_named_labels(tmp_path: Path) -> None:
    path = tmp_path / "texts.json"
    path.write_text(json.dumps([{"data": {"text": f"text {i}"}} for i in range(5)]))
    data = load_demo_data(path, labels="yes, no", limit=3)
    assert data.texts == ("text 0", "text 1", "text 2")
    assert parse_label_config(data.label_config).labels == ("yes", "no")


@pytest.mark.parametrize(("content", "options", "message"), [
    ("body\nhello\n", {}, "--text-column"),
    ("text\nhello\n", {}, "--labels A,B,C"),
    ("text,label\nhello,a\nbye,a\n", {}, "2 to 100 classes"),
    ("text,label\nhello,a\n", {"limit": 0}, "--limit"),
])
def test_unusable_data_says_what_to_pass(tmp_path: Path, content: str, options: dict[str, Any], message: str) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    with pytest.raises(DemoDataError, match=re.escape(message)):
        load_demo_data(path, **options)


def test_ports_prefer_the_given_then_the_remembered_then_the_default() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert choose_port(1234, taken, taken) == 1234
        spare = free_port()
        assert choose_port(None, spare, taken) == spare
        assert choose_port(None, taken, spare) == spare
        assert choose_port(None, None, taken) not in (taken, 0)


# -- the demo end to end (slow: its own Label Studio) --------------------------------------------

@dataclass
class Demo:
    folder: Path
    process: subprocess.Popen[bytes]
    output: Path
    ls_port: int
    backend_port: int

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, pattern: re.Pattern[str], timeout: float) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited ({self.process.returncode}):\n{self.text()}")
            return pattern.search(self.text())

        return wait_until(found, timeout, f"{pattern.pattern!r} in the demo's output", interval=1.0)

    @property
    def state(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.folder / "demo.json").read_text())
        return loaded

    @property
    def api(self) -> LsApi:
        creds = json.loads((self.folder / "label-studio" / "ls-active-credentials.json").read_text())
        return LsApi(self.state["label_studio_url"], creds["token"])

    def interrupt(self, timeout: float = 90.0) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


def start_demo(folder: Path, ls_port: int, backend_port: int, name: str, extra: tuple[str, ...] = (),
               limit: int = LIMIT) -> Demo:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_"))}
    env.update(RETRAIN_EVERY="5", LOG_LEVEL="INFO")
    output = folder.parent / f"{name}.out"
    with output.open("wb") as out:
        process = spawn(
            [sys.executable, "-m", "backend.cli", "demo", "--dir", str(folder), "--limit", str(limit),
             "--ls-port", str(ls_port), "--port", str(backend_port), *extra],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return Demo(folder, process, output, ls_port, backend_port)


@contextmanager
def ready_demo(folder: Path, name: str, extra: tuple[str, ...] = (), limit: int = LIMIT) -> Iterator[Demo]:
    """A demo on free ports, once it says it is ready; interrupted and stopped afterwards."""
    running = start_demo(folder, free_port(), free_port(), name, extra, limit=limit)
    try:
        running.wait_for(READY, READY_TIMEOUT)
        yield running
    finally:
        if running.process.poll() is None:
            running.interrupt()
        stop(running.process)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with ready_demo(tmp_path_factory.mktemp("demo") / "demo-data", "first") as running:
        yield running


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line or environment names ``text`` (the demo's folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            blob = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in blob:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_the_project_is_connected_and_scored(demo: Demo) -> None:
    match = demo.wait_for(READY, 1)
    assert float(match.group(1)) > 0
    project = demo.state["project"]
    assert match.group(2).startswith(f"http://127.0.0.1:{demo.ls_port}/projects/{project}/data")
    assert re.search(r"login: \S+@\S+\s+password: \S+", demo.text())
    ls = demo.api
    info = ls.project(project)
    assert info["title"] == "ls-active demo (trec6)" and info["task_number"] == LIMIT
    assert info["sampling"] == "Uncertainty sampling"
    assert info["model_version"] == "ls-active-cold-start"
    backend_url = f"http://127.0.0.1:{demo.backend_port}"
    (ml,) = ls.call("GET", f"api/ml?project={project}")
    assert ml["url"] == backend_url and ml["state"] == "CO"
    hooks = ls.call("GET", f"api/webhooks/?project={project}")
    assert [h["url"] for h in hooks] == [f"{backend_url}/webhook"]
    views = ls.call("GET", f"api/dm/views?project={project}")
    assert [v["data"]["title"] for v in views].count("Active learning queue") == 1


@pytest.mark.slow
def test_after_a_few_labels_the_least_confident_task_comes_first(demo: Demo) -> None:
    ls, project = demo.api, demo.state["project"]
    gold = dict(zip(*read_trec6(LIMIT), strict=True))
    for _ in range(5):  # an annotator labels what Label Studio serves
        task = ls.next_task(project)
        ls.call("POST", f"api/tasks/{task['id']}/annotations/",
                json={"result": choices_result(gold[task["data"]["text"]])})

    def retrained() -> str | None:
        version = str(ls.project(project)["model_version"])
        return version if version.startswith("ls-active-v") else None

    version = wait_until(retrained, 300, "a model trained on the 5 labels", interval=2.0)
    order = ls.unlabeled_by_score(project)
    scores = [t["predictions_score"] for t in order]
    assert len(order) == LIMIT - 5 and None not in scores
    assert scores == sorted(scores), "the Data Manager must list the lowest score first"
    served = ls.next_task(project)
    by_id = {t["id"]: t["predictions_score"] for t in order}
    assert by_id[served["id"]] == pytest.approx(scores[0]), f"{version}: /next/ did not serve the lowest score"
    assert scores[0] < scores[-1]


@pytest.mark.slow
def test_check_finds_the_demo_by_itself(demo: Demo) -> None:
    """``ls-active check`` with no flag, in the demo's folder and in the folder it was started from."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LABEL_STUDIO_", "BASIC_AUTH_", "REDIS_URL", "DATA_DIR", "MODEL_DIR"))}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, wherever the command runs
    for cwd in (demo.folder, demo.folder.parent):
        done = subprocess.run([sys.executable, "-m", "backend.cli", "check"], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "8 passed, 0 failed" in done.stdout, done.stdout
        assert f"http://127.0.0.1:{demo.backend_port}" in done.stdout
        assert not [line for line in done.stdout.splitlines() if line.startswith("FAIL")]


@pytest.mark.slow
def test_ctrl_c_stops_everything(demo: Demo) -> None:
    assert listening(demo.ls_port) and listening(demo.backend_port)
    redis_socket = socket_path(demo.folder / "backend")
    assert redis.Redis(unix_socket_path=str(redis_socket)).ping()
    assert processes_mentioning(str(demo.folder))
    assert demo.interrupt() == 0
    assert "stopped" in demo.text()
    wait_until(lambda: not processes_mentioning(str(demo.folder)), 30, "the demo's processes to exit")
    assert not listening(demo.ls_port) and not listening(demo.backend_port)
    with pytest.raises(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(redis_socket), socket_connect_timeout=1).ping()


@pytest.mark.slow
def test_a_second_run_reuses_the_project(demo: Demo) -> None:
    assert demo.process.poll() is not None, "runs after the Ctrl-C test"
    before = demo.state["project"]
    again = start_demo(demo.folder, free_port(), free_port(), "second")
    try:
        again.wait_for(READY, 300)
        assert "reused" in again.text() and again.state["project"] == before
        ls = again.api
        assert len(ls.call("GET", "api/projects/")["results"]) == 1
        (ml,) = ls.call("GET", f"api/ml?project={before}")
        assert ml["url"] == f"http://127.0.0.1:{again.backend_port}", "the moved backend is reconnected"
        hooks = ls.call("GET", f"api/webhooks/?project={before}")
        assert [h["url"] for h in hooks] == [f"http://127.0.0.1:{again.backend_port}/webhook"]
        assert str(ls.project(before)["model_version"]).startswith("ls-active-v"), "the trained model is kept"
    finally:
        assert again.interrupt() == 0
    wait_until(lambda: not processes_mentioning(str(demo.folder)), 30, "the second run's processes to exit")
