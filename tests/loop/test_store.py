"""Model artifacts: written atomically, never overwritten, cached by version, damage reported."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import joblib
import numpy as np
import pytest

from backend.loop.store import META_FILE, MODEL_FILE, ArtifactError, ArtifactStore, artifact_bytes, pid_alive
from backend.tasks.text_classification.features import featurize
from backend.tasks.text_classification.model import TextModel, train_model
from tests.conftest import ROOT

TEXTS = ["good fun film", "great acting", "dull plot", "boring and slow"]


@pytest.fixture(scope="module")
def model() -> TextModel:
    return train_model(featurize(TEXTS), [0, 0, 1, 1], ("pos", "neg"))


def test_write_then_load(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    folder = store.write(3, "v1", model, {"version": "v1", "n": 4}, extra_files={"report.json": b'{"ok": true}'})
    assert folder == tmp_path / "project-3" / "v1"
    assert sorted(p.name for p in folder.iterdir()) == sorted([MODEL_FILE, META_FILE, "report.json"])
    assert store.exists(3, "v1") and not store.exists(3, "v2") and not store.exists(4, "v1")
    loaded = ArtifactStore(tmp_path).load(3, "v1")
    probe = featurize(["fun acting", "slow plot"])
    np.testing.assert_array_equal(loaded.predict_proba(probe), model.predict_proba(probe))
    assert store.meta(3, "v1") == {"version": "v1", "n": 4}
    assert store.read_json(3, "v1", "report.json") == {"ok": True}


def test_refuses_to_overwrite_a_version(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    store.write(1, "v1", model, {"first": True})
    with pytest.raises(ArtifactError, match="already exists"):
        store.write(1, "v1", model, {"first": False})
    assert store.meta(1, "v1") == {"first": True}


def test_failed_write_leaves_nothing(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(FileNotFoundError):
        store.write(1, "v1", model, {}, extra_files={"missing-dir/report.json": b"{}"})
    assert not store.exists(1, "v1")
    assert list((tmp_path / "project-1").iterdir()) == []


@pytest.mark.parametrize("version", ["", "../escape", "a/b", ".hidden", "x" * 200, "v 1"])
def test_invalid_version_names(tmp_path: Path, version: str) -> None:
    with pytest.raises(ArtifactError, match="invalid model version"):
        ArtifactStore(tmp_path).path(1, version)


KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from backend.tasks.text_classification.features import featurize
    from backend.tasks.text_classification.model import train_model
    from backend.loop.store import ArtifactStore

    model = train_model(featurize(["good fun", "dull plot"]), [0, 1], ("pos", "neg"))

    def die(src, dst):  # every file is written; the process dies before the rename
        os.kill(os.getpid(), signal.SIGKILL)

    os.rename = die
    ArtifactStore(sys.argv[1]).write(7, "v1", model, {"version": "v1"})
    """
)


def test_killed_writer_is_never_loaded_and_is_cleaned(tmp_path: Path, model: TextModel) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=ROOT, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    project = tmp_path / "project-7"
    leftovers = [p.name for p in project.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".tmp-v1@")
    assert (project / leftovers[0] / MODEL_FILE).is_file(), "the writer was killed after writing"
    store = ArtifactStore(tmp_path)
    assert not store.exists(7, "v1") and store.versions(7) == []
    with pytest.raises(ArtifactError, match="not in"):
        store.load(7, "v1")
    assert store.clean_temporaries(7) == 1
    assert list(project.iterdir()) == []
    store.write(7, "v1", model, {"version": "v1"})  # the version name is still free
    assert store.exists(7, "v1") and store.versions(7) == ["v1"]
    assert store.clean_temporaries(7) == 0
    assert store.clean_temporaries(99) == 0


def test_the_next_write_removes_what_a_killed_writer_left(tmp_path: Path, model: TextModel) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=ROOT, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    ArtifactStore(tmp_path).write(7, "v2", model, {"version": "v2"})
    assert sorted(p.name for p in (tmp_path / "project-7").iterdir()) == ["v2"]


def test_a_write_in_progress_elsewhere_is_left_alone(tmp_path: Path, model: TextModel) -> None:
    """A live writer's folder stays; so does a foreign host's until it is hours old."""
    project = tmp_path / "project-3"
    live = project / f".tmp-v1@{socket.gethostname()}@{os.getpid()}@abcd1234"
    foreign = project / ".tmp-v2@another-host@12@abcd1234"
    report = project / "v0" / ".report.html.abcd1234.tmp"
    for folder in (live, foreign, report.parent):
        folder.mkdir(parents=True)
    report.write_bytes(b"half")
    store = ArtifactStore(tmp_path)
    assert store.clean_all_temporaries() == 0
    assert live.is_dir() and foreign.is_dir() and report.is_file()
    hours_ago = time.time() - 4 * 3600
    for entry in (foreign, report):
        os.utime(entry, (hours_ago, hours_ago))
    assert store.clean_all_temporaries() == 2
    assert live.is_dir() and not foreign.exists() and not report.exists()


def test_loads_are_cached_by_version(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    store.write(1, "v1", model, {})
    first = store.load(1, "v1")
    os.remove(tmp_path / "project-1" / "v1" / MODEL_FILE)
    assert store.load(1, "v1") is first, "a version is immutable, so the cached object is reused"
    with pytest.raises(ArtifactError):
        ArtifactStore(tmp_path).load(1, "v1")


def test_cache_keeps_versions_apart_and_evicts_oldest(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path, cache_size=2)
    other = train_model(featurize(TEXTS), [1, 1, 0, 0], ("pos", "neg"))
    store.write(1, "v1", model, {})
    store.write(1, "v2", other, {})
    store.write(2, "v1", other, {})
    a, b = store.load(1, "v1"), store.load(1, "v2")
    probe = featurize(["fun"])
    assert a.predict_proba(probe)[0, 0] > 0.5 > b.predict_proba(probe)[0, 0]
    store.load(2, "v1")  # evicts project 1 v1
    os.remove(tmp_path / "project-1" / "v1" / MODEL_FILE)
    with pytest.raises(ArtifactError):
        store.load(1, "v1")
    assert store.load(1, "v2") is b


def test_selection_models_never_evict_the_served_ones(tmp_path: Path, model: TextModel) -> None:
    """A rescore loads each version's selection model; ``/predict`` must keep its served ones."""
    store = ArtifactStore(tmp_path, cache_size=2)
    extra = {"selection.joblib": artifact_bytes(model)}
    for version in ("v1", "v2", "v3"):
        store.write(1, version, model, {}, extra_files=extra)
    served = store.load(1, "v1"), store.load(1, "v2")
    chosen = [store.load_extra(1, v, "selection.joblib") for v in ("v1", "v2", "v3")]
    assert all(m is not None for m in chosen) and chosen[0] is not served[0]
    for version in ("v1", "v2"):
        os.remove(tmp_path / "project-1" / version / MODEL_FILE)
    assert store.load(1, "v1") is served[0] and store.load(1, "v2") is served[1]
    assert store.load_extra(1, "v3", "selection.joblib") is chosen[2]


def test_unreadable_file_is_an_artifact_error(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    store.write(1, "v1", model, {})
    (tmp_path / "project-1" / "v1" / MODEL_FILE).write_bytes(b"\x00not a joblib file at all")
    with pytest.raises(ArtifactError, match="unreadable"):
        store.load(1, "v1")


def test_foreign_object_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "project-1" / "v1"
    folder.mkdir(parents=True)
    joblib.dump({"not": "a model"}, folder / MODEL_FILE)
    with pytest.raises(ArtifactError, match="does not hold an ls-active model"):
        ArtifactStore(tmp_path).load(1, "v1")


def test_missing_or_damaged_json_reads_as_empty(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    store.write(1, "v1", model, {"a": 1})
    (tmp_path / "project-1" / "v1" / META_FILE).write_text("{broken")
    assert store.meta(1, "v1") == {}
    assert store.meta(1, "v9") == {}
    assert store.read_json(1, "v1", "nothing.json") is None


def test_add_file_replaces_atomically(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    store.write(1, "v1", model, {})
    store.add_file(1, "v1", "report.json", json.dumps({"round": 1}).encode())
    store.add_file(1, "v1", "report.json", json.dumps({"round": 2}).encode())
    assert store.read_json(1, "v1", "report.json") == {"round": 2}
    assert not [p for p in (tmp_path / "project-1" / "v1").iterdir() if p.name.startswith(".")]


def test_an_artifact_of_release_0_1_loads(tmp_path: Path, model: TextModel) -> None:
    """0.1 stored its model class as ``backend.model.TextModel``; upgrading keeps it loadable."""
    folder = tmp_path / "project-1" / "v1"
    script = textwrap.dedent(f"""
        import pathlib, sys, types
        import joblib
        from backend.tasks.text_classification import model as current
        from backend.tasks.text_classification.features import featurize
        legacy = types.ModuleType("backend.model")
        legacy.TextModel = current.TextModel
        sys.modules["backend.model"] = legacy
        current.TextModel.__module__ = "backend.model"
        folder = pathlib.Path({str(folder)!r})
        folder.mkdir(parents=True)
        joblib.dump(current.train_model(featurize({TEXTS!r}), [0, 0, 1, 1], ("pos", "neg")), folder / "model.joblib")
    """)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert b"backend.model" in (folder / MODEL_FILE).read_bytes()
    loaded = ArtifactStore(tmp_path).load(1, "v1")
    probe = featurize(["fun acting", "slow plot"])
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe))


def test_artifacts_are_readable_by_their_owner_only(tmp_path: Path, model: TextModel) -> None:
    store = ArtifactStore(tmp_path)
    folder = store.write(4, "v1", model, {"version": "v1"}, extra_files={"training.json": b'{"texts": ["secret"]}'})
    store.add_file(4, "v1", "report.html", b"<html></html>")
    assert folder.stat().st_mode & 0o077 == 0 and folder.parent.stat().st_mode & 0o077 == 0
    for entry in folder.iterdir():
        assert entry.stat().st_mode & 0o077 == 0, entry.name


def test_pool_statistics_are_replaced_atomically_and_survive_damage(tmp_path: Path) -> None:
    from backend.tasks.text_classification.pool import pool_stats

    store = ArtifactStore(tmp_path)
    assert store.read_pool(5) is None
    store.write_pool(5, pool_stats(featurize(TEXTS)))
    store.write_pool(5, pool_stats(featurize(TEXTS * 2)))
    assert store.read_pool(5).n_docs == 2 * len(TEXTS)
    folder = tmp_path / "project-5"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert store.versions(5) == []
    (folder / "pool.joblib").write_bytes(b"not a pickle")
    assert store.read_pool(5) is None


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_a_zombie_is_not_a_running_process() -> None:
    """A killed work horse that nobody has reaped yet must count as gone, or its job waits for minutes."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _state(child.pid) != "Z":
            time.sleep(0.01)
        assert _state(child.pid) == "Z"  # exited, not reaped: this test has not waited for it yet
        assert pid_alive(child.pid) is False
    finally:
        child.wait()
    assert pid_alive(child.pid) is False
