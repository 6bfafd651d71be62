"""Installing and running a local Label Studio.

The install path runs with a fake installer that writes a tiny virtualenv-like folder, so the
locking, the temp-then-rename and the repair of a broken install are exercised in
milliseconds; the real install is exercised by the session's Label Studio fixture.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from backend.errors import LabelStudioError
from backend.labelstudio import install
from backend.labelstudio import local as ls_local
from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.install import LABEL_STUDIO_VERSION, ensure_label_studio, venv_path
from backend.labelstudio.local import LocalLabelStudio, token_works
from tests.ls_fixtures import RunningLabelStudio


def _script(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


class FakeInstaller:
    """Writes ``bin/python`` (exits 0: "imports" fine) and a ``label-studio`` script."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[Path] = []
        self.delay = delay

    def __call__(self, target: Path) -> None:
        self.calls.append(target)
        time.sleep(self.delay)
        _script(target / "bin" / "python", "#!/bin/sh\nexit 0\n")
        _script(target / "bin" / "label-studio", f"#!{target}/bin/python\n# label-studio\n")


def test_venv_path_honours_the_cache_variable(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("LS_ACTIVE_CACHE", str(tmp_path))
    assert venv_path() == tmp_path / f"label-studio-{LABEL_STUDIO_VERSION}"
    monkeypatch.delenv("LS_ACTIVE_CACHE")
    assert venv_path() == Path("~/.cache/ls-active").expanduser() / "label-studio-1.23.2"


def test_missing_install_is_created_once_and_relocated(tmp_path: Path) -> None:
    installer = FakeInstaller()
    exe = ensure_label_studio(tmp_path, installer=installer)
    venv = tmp_path / "label-studio-1.23.2"
    assert exe == venv / "bin" / "label-studio"
    assert len(installer.calls) == 1 and installer.calls[0].parent == tmp_path
    assert installer.calls[0].name.startswith(".label-studio-1.23.2.tmp-")
    assert not installer.calls[0].exists()  # renamed into place
    assert exe.read_text().startswith(f"#!{venv}/bin/python\n")  # no stale temp path
    assert ensure_label_studio(tmp_path, installer=installer) == exe
    assert len(installer.calls) == 1  # idempotent


def test_broken_install_and_leftovers_are_replaced(tmp_path: Path) -> None:
    venv = tmp_path / "label-studio-1.23.2"
    _script(venv / "bin" / "python", "#!/bin/sh\nexit 1\n")  # cannot import label_studio
    _script(venv / "bin" / "label-studio", "#!/bin/sh\n")
    leftover = tmp_path / ".label-studio-1.23.2.tmp-999999"
    (leftover / "bin").mkdir(parents=True)  # an install that was killed halfway
    installer = FakeInstaller()
    ensure_label_studio(tmp_path, installer=installer)
    assert len(installer.calls) == 1
    assert not leftover.exists()
    assert install.is_usable(venv)


def test_failed_install_leaves_nothing_that_passes_for_an_install(tmp_path: Path) -> None:
    def dies_halfway(target: Path) -> None:
        _script(target / "bin" / "python", "#!/bin/sh\nexit 0\n")
        raise LabelStudioError("pip failed", retryable=False)

    with pytest.raises(LabelStudioError, match="pip failed"):
        ensure_label_studio(tmp_path, installer=dies_halfway)
    assert not (tmp_path / "label-studio-1.23.2").exists()
    installer = FakeInstaller()
    ensure_label_studio(tmp_path, installer=installer)
    assert len(installer.calls) == 1


def test_concurrent_callers_install_once(tmp_path: Path) -> None:
    installer = FakeInstaller(delay=0.3)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(
        ensure_label_studio(tmp_path, installer=installer))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(installer.calls) == 1
    assert len(results) == 3 and len(set(results)) == 1


def test_credentials_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = LocalLabelStudio(tmp_path / "data")
    assert len(first.token) == 40 and first.password and first.username
    ls_local._save_credentials(first.data_dir, {"username": first.username,
                                                "password": first.password, "token": first.token})
    again = LocalLabelStudio(tmp_path / "data")
    assert (again.username, again.password, again.token) == (
        first.username, first.password, first.token)
    mode = (tmp_path / "data" / ls_local.CREDENTIALS_FILE).stat().st_mode
    assert mode & 0o077 == 0  # readable by the owner only
    assert first.token not in repr(first) and first.password not in repr(first)
    env = first.environment()
    assert env["LABEL_STUDIO_USER_TOKEN"] == first.token
    assert env["ML_BLOCK_LOCAL_IP"] == "false" and env["SSRF_PROTECTION_ENABLED"] == "false"


def test_a_server_that_exits_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "label-studio"
    _script(fake, "#!/bin/sh\necho 'port already in use, giving up'\nexit 3\n")
    server = LocalLabelStudio(tmp_path / "data", executable=fake, startup_timeout=30)
    started = time.monotonic()
    with pytest.raises(LabelStudioError, match="giving up") as caught:
        server.start()
    assert time.monotonic() - started < 10
    assert "exited (code 3)" in str(caught.value)
    assert not server.running


def test_a_server_that_never_answers_is_stopped_with_its_children(tmp_path: Path) -> None:
    fake = tmp_path / "label-studio"
    pid_file = tmp_path / "child.pid"
    _script(fake, f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\necho 'still migrating'\n"
                  "exec sleep 300\n")
    server = LocalLabelStudio(tmp_path / "data", executable=fake, startup_timeout=1.5)
    with pytest.raises(LabelStudioError, match="still migrating") as caught:
        server.start()
    assert caught.value.retryable is True
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)  # the whole process group went


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


@pytest.mark.labelstudio
def test_running_server_files_and_token(label_studio: LocalLabelStudio | RunningLabelStudio) -> None:
    if isinstance(label_studio, RunningLabelStudio):
        pytest.skip("server started outside the test run: its files are not ours to inspect")
    assert label_studio.running and label_studio.url.startswith("http://127.0.0.1:")
    assert "Starting development server" in label_studio.log_path.read_text(errors="replace")
    assert (label_studio.data_dir / "label_studio.sqlite3").exists()
    stored = ls_local._load_credentials(label_studio.data_dir)
    assert stored["token"] == label_studio.token and stored["username"] == label_studio.username
    with LabelStudioClient(label_studio.url, label_studio.token) as client:  # legacy token works
        project = client.create_project("token check", "<View><Text name='t' value='$t'/></View>")
        assert client.get_project(project)["title"] == "token check"


@pytest.mark.labelstudio
def test_personal_access_token_is_kept_and_replaceable(
    label_studio: LocalLabelStudio | RunningLabelStudio,
) -> None:
    if isinstance(label_studio, RunningLabelStudio):
        pytest.skip("server started outside the test run: its stored token is not ours")
    pat = label_studio.personal_access_token()
    assert pat.count(".") == 2  # a JWT
    assert label_studio.personal_access_token() == pat  # stored and reused while valid
    with label_studio.client() as client:
        with pytest.raises(LabelStudioError, match="revoke the user's personal access token") as caught:
            client.create_personal_access_token(replace_existing=False)
        assert caught.value.status == 409 and not caught.value.retryable
        fresh = client.create_personal_access_token()
    assert fresh != pat
    assert not token_works(label_studio.url, pat)  # the old one was revoked
    assert token_works(label_studio.url, fresh)
    with LabelStudioClient(label_studio.url, fresh) as by_pat:
        assert by_pat.personal_access_token and by_pat.whoami()["email"] == label_studio.username
    newest = label_studio.personal_access_token()  # stored one is dead: made anew
    assert token_works(label_studio.url, newest)
    assert not token_works(label_studio.url, "0" * 40)


@pytest.mark.labelstudio
@pytest.mark.slow
def test_warm_restart_keeps_data_and_credentials(
    label_studio: LocalLabelStudio | RunningLabelStudio,
) -> None:
    if isinstance(label_studio, RunningLabelStudio):
        pytest.skip("server started outside the test run: not ours to restart")
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        project = client.create_project("survives a restart", "<View><Text name='t' "
                                        "value='$text'/></View>")
    label_studio.stop()
    assert not label_studio.running
    started = time.monotonic()
    label_studio.start()  # same data folder and port
    restart_seconds = time.monotonic() - started
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        assert client.get_project(project)["title"] == "survives a restart"
    assert restart_seconds < 60


def test_a_port_in_use_is_refused_before_starting(tmp_path: Path) -> None:
    fake = tmp_path / "label-studio"
    _script(fake, "#!/bin/sh\necho started > \"$0.ran\"\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = LocalLabelStudio(tmp_path / "data", port=busy.getsockname()[1], executable=fake)
        with pytest.raises(LabelStudioError, match="already in use"):
            server.start()
    assert not Path(f"{fake}.ran").exists()
