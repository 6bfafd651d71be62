"""A Redis that lost everything gets each project's state back from MODEL_DIR, by itself.

Real Redis (flushed to stand for a Redis restarted empty), real artifact store, and a real
``ls-active worker --burst`` for the start-up cleanup of half-written artifacts.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from backend.labelstudio.payloads import Event
from backend.loop import keys
from backend.loop.project_file import write_config
from backend.loop.recovery import has_model, remember_config, restore
from backend.loop.services import Services
from backend.service import events
from backend.settings import Settings
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import TextModel, train_model
from tests.conftest import ROOT, backend_env
from tests.loop.test_state import config
from tests.loop.test_store import KILLED_WRITER


@pytest.fixture()
def svc(redis_url: str, redis_conn: redis.Redis, tmp_path: Path) -> Services:
    return Services.create(Settings.from_env(backend_env(redis_url, tmp_path)))


@pytest.fixture(scope="module")
def model() -> TextModel:
    return train_model(featurize(["good fun", "great", "dull plot", "slow"]), [0, 0, 1, 1], ("pos", "neg"))


def publish(svc: Services, model: TextModel, project: int, *numbers: int) -> list[str]:
    names = []
    for n in numbers:
        name = f"ls-active-v{n}-2026010{n % 10}T000000"
        svc.store.write(project, name, model, {"version": name, "created_at": float(n)})
        svc.state.publish_version(project, name, {"version": name, "created_at": float(n)})
        names.append(name)
    return names


def test_everything_lost_comes_back_from_the_files(svc: Services, model: TextModel) -> None:
    original = config(3, access_token="token-of-3")
    remember_config(svc, original)
    names = publish(svc, model, 3, 1, 2, 9, 10)
    svc.conn.flushdb()
    assert svc.state.config(3) is None and svc.state.current_version(3) is None
    assert restore(svc, 3) is True
    assert svc.state.config(3) == original
    assert svc.state.current_version(3) == names[-1], "v10 is newer than v9 (by number, not by text)"
    assert [r["version"] for r in svc.state.versions(3)] == names
    assert svc.state.projects() == [3]
    assert restore(svc, 3) is False, "once rebuilt, a request costs one EXISTS"


def test_a_rebuild_never_undoes_a_fresh_write(svc: Services, model: TextModel) -> None:
    write_config(svc.settings.model_dir, config(4, access_token="old"))
    names = publish(svc, model, 4, 1, 2)
    svc.conn.flushdb()
    svc.state.save_config(config(4, access_token="from-a-new-setup"))
    svc.state.publish_version(4, names[0], {"version": names[0], "figure": 1})  # a job that ran meanwhile
    restore(svc, 4)
    stored = svc.state.config(4)
    assert stored is not None and stored.access_token == "from-a-new-setup"
    assert svc.state.current_version(4) == names[0]
    assert svc.state.version_record(4, names[0])["figure"] == 1


def test_a_project_without_files_is_left_as_it_is(svc: Services) -> None:
    assert restore(svc, 8) is False
    assert svc.state.config(8) is None and svc.state.current_version(8) is None
    assert svc.conn.exists(keys.restored(8)) and not has_model(svc, 8)


def test_first_setup_is_told_apart_from_a_reconnect(svc: Services, model: TextModel) -> None:
    assert remember_config(svc, config(5)) is True
    assert not has_model(svc, 5)
    publish(svc, model, 5, 1)
    assert has_model(svc, 5)
    svc.conn.flushdb()
    restore(svc, 5)
    assert remember_config(svc, config(5)) is False, "the kept config makes it a reconnect"


def test_the_label_count_starts_from_label_studios(svc: Services) -> None:
    assert svc.state.add_label_events(6, 1, before=24) == 25, "a lost count starts at Label Studio's"
    assert svc.state.add_label_events(6, 1, before=3) == 26, "a count Redis has is kept"
    assert svc.state.start_label_events(6, 99) is False
    svc.conn.flushdb()
    assert svc.state.start_label_events(6, 40) is True
    assert svc.state.counters(6)["label_events"] == 40
    assert svc.state.add_label_events(7, 2) == 2


def test_a_starting_worker_removes_what_a_killed_writer_left(redis_url: str, redis_conn: redis.Redis,
                                                              tmp_path: Path, model: TextModel) -> None:
    env = backend_env(redis_url, tmp_path)
    models = tmp_path / "models"
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(models)], cwd=ROOT, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert [p.name[:8] for p in (models / "project-7").iterdir()] == [".tmp-v1@"]
    subprocess.run([sys.executable, "-m", "backend.cli", "worker", "--burst"], env=env, cwd=ROOT,
                   check=True, timeout=120, capture_output=True)
    assert list((models / "project-7").iterdir()) == []


def test_the_config_file_holds_the_token_for_its_owner_only(svc: Services) -> None:
    remember_config(svc, config(2, access_token="secret-2"))
    path = svc.settings.model_dir / "project-2" / "config.json"
    assert json.loads(path.read_text())["access_token"] == "secret-2"
    assert path.stat().st_mode & 0o777 == 0o600


def test_audit_draws_survive_a_lost_redis(svc: Services) -> None:
    from backend.loop.audit import add_audit
    from backend.loop.project_file import AUDIT_FILE

    project = config(4, access_token="token-of-4")
    remember_config(svc, project)
    preds = [{"task": 1000 + i, "score": (i * 37 % 101) / 101} for i in range(300)]
    drawn = add_audit(svc, project, "ls-active-cold-start", preds, head=30)
    drawn += add_audit(svc, project, "ls-active-v1-x", [dict(p) for p in preds[50:]], head=30)
    assert drawn and set(svc.state.audit_tasks(4)) == set(drawn)
    kept = svc.settings.model_dir / "project-4" / AUDIT_FILE
    assert kept.stat().st_mode & 0o777 == 0o600
    svc.conn.flushdb()
    assert svc.state.audit_tasks(4) == {}
    assert restore(svc, 4) is True
    assert set(svc.state.audit_tasks(4)) == set(drawn), "labeled audit tasks turned into ordinary ones"
    assert svc.state.audit_draw_count(4) == 2, "the next draw's number would repeat an earlier one"


def count_round_trips(svc: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, one entry per send to Redis (a whole pipeline is one send)."""
    sent: list[int] = []
    connection = svc.conn.connection_pool.get_connection()
    svc.conn.connection_pool.release(connection)
    original = type(connection).send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        original(self, command, check_health)

    monkeypatch.setattr(type(connection), "send_packed_command", counting)
    return sent


def test_a_webhook_costs_one_redis_round_trip_while_redis_keeps_its_state(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """Label Studio waits inside the annotator's save: counting, the milestone count and the
    recovery check go to Redis together."""
    events.handle(svc, Event("ANNOTATION_CREATED", 9, labels_created=1, project_labels=5))  # runs recovery
    sent = count_round_trips(svc, monkeypatch)
    answer = events.handle(svc, Event("ANNOTATION_CREATED", 9, labels_created=1, project_labels=6))
    assert len(sent) == 1 and answer["label_events"] == 6
    monkeypatch.undo()
    assert svc.state.counters(9)["labels_created"] == 2


def test_a_webhook_to_a_redis_that_lost_everything_rebuilds_and_counts_from_label_studio(
        svc: Services, model: TextModel) -> None:
    publish(svc, model, 11, 1, 2)
    svc.conn.flushdb()
    answer = events.handle(svc, Event("ANNOTATION_CREATED", 11, labels_created=1, project_labels=31))
    assert answer["label_events"] == 31, "a lost count starts at Label Studio's, plus this label"
    assert svc.state.current_version(11) == "ls-active-v2-20260102T000000"
    assert svc.conn.exists(keys.restored(11))
