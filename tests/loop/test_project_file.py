"""The config kept beside a project's models: owner-only, atomic, and quiet about its token."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path

import pytest

from backend.loop.project_file import CONFIG_FILE, config_path, read_config, write_config
from tests.loop.test_state import config


def test_written_owner_only_and_read_back(tmp_path: Path) -> None:
    original = config(5, access_token="secret-token-5")
    path = write_config(tmp_path, original)
    assert path == tmp_path / "project-5" / CONFIG_FILE
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o077 == 0
    assert read_config(tmp_path, 5) == original
    assert read_config(tmp_path, 6) is None
    assert [p.name for p in path.parent.iterdir()] == [CONFIG_FILE], "no temporary file is left"


def test_a_change_replaces_the_file_and_a_mere_new_time_does_not(tmp_path: Path) -> None:
    first = config(5)
    path = write_config(tmp_path, first)
    inode = path.stat().st_ino
    write_config(tmp_path, replace(first, setup_at=99.0))
    assert path.stat().st_ino == inode, "the same config again is not rewritten"
    changed = replace(first, access_token="new-token", setup_at=100.0)
    write_config(tmp_path, changed)
    assert path.stat().st_ino != inode, "renamed over the old file, not written in place"
    assert read_config(tmp_path, 5) == changed


def test_a_damaged_file_reads_as_none_without_quoting_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = config_path(tmp_path, 3)
    path.parent.mkdir(parents=True)
    path.write_text('{"project": 3, "access_token": "secret-token-3", "schema": {"kind": "nope"}}')
    os.chmod(path, 0o600)
    with caplog.at_level(logging.ERROR):
        assert read_config(tmp_path, 3) is None
    assert "unreadable" in caplog.text and "secret-token-3" not in caplog.text


def test_a_file_of_another_project_is_not_taken(tmp_path: Path) -> None:
    write_config(tmp_path, config(4))
    (tmp_path / "project-9").mkdir()
    os.replace(config_path(tmp_path, 4), config_path(tmp_path, 9))
    assert read_config(tmp_path, 9) is None
