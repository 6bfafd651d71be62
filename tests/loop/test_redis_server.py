"""The embedded Redis (a real redis-server) and connecting to the configured one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from backend.errors import ConfigurationError
from backend.loop.redis_server import EmbeddedRedis, connect, ensure_redis, socket_path
from backend.settings import Settings


@pytest.fixture()
def servers() -> Iterator[list[EmbeddedRedis]]:
    """Every server a test starts is stopped, even when the test fails."""
    started: list[EmbeddedRedis] = []
    yield started
    for server in started:
        server.stop()


def start(servers: list[EmbeddedRedis], data_dir: Path) -> tuple[EmbeddedRedis, redis.Redis]:
    server = EmbeddedRedis(data_dir)
    servers.append(server)
    url = server.start()
    return server, redis.Redis.from_url(url)


def test_starts_a_real_server_under_the_data_dir(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    server, conn = start(servers, tmp_path / "data")
    assert server.process is not None and server.process.poll() is None
    assert server.url == f"unix://{tmp_path / 'data' / 'redis.sock'}"
    assert conn.ping()
    assert conn.info("server")["redis_version"]


def test_second_instance_reuses_the_running_server(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    first, conn = start(servers, tmp_path)
    conn.set("shared", "yes")
    second, other = start(servers, tmp_path)
    assert second.process is None, "a second server must not be started on the same data dir"
    assert second.url == first.url
    assert other.get("shared") == b"yes"
    second.stop()  # stopping a non-owner does nothing
    assert conn.ping()


def test_data_survives_a_restart(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    server, conn = start(servers, tmp_path)
    conn.set("version", "v3")
    conn.hincrby("counters", "labels", 17)
    conn.close()
    server.stop()
    assert server.process is not None and server.process.poll() is not None
    aof = [f for f in (tmp_path / "appendonlydir").iterdir() if f.name.startswith("redis.aof")]
    assert sum(f.stat().st_size for f in aof) > 0, "the append-only files hold the writes"
    (tmp_path / "redis.rdb").unlink(missing_ok=True)  # so only the append-only files can restore them
    _, again = start(servers, tmp_path)
    assert again.get("version") == b"v3"
    assert again.hget("counters", "labels") == b"17"


def test_long_data_dir_gets_a_short_socket(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 6))
    assert len(str(deep / "redis.sock")) > 107
    path = socket_path(deep)
    assert len(str(path)) <= 100
    assert path != socket_path(deep / "other"), "different data dirs must not share a socket"
    assert socket_path(deep) == path, "every process must compute the same socket"
    server, conn = start(servers, deep)
    assert server.socket == path
    assert conn.ping()
    assert (deep / "redis.log").exists(), "the database and log stay under the data dir"


def test_short_data_dir_keeps_its_socket(tmp_path: Path) -> None:
    assert socket_path(tmp_path) == tmp_path / "redis.sock"


def test_a_server_that_cannot_start_names_its_log(tmp_path: Path) -> None:
    (tmp_path / "redis.aof").write_bytes(b"not an append-only file\n*3\nxx")
    server = EmbeddedRedis(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        server.start(timeout=5)
    assert str(tmp_path / "redis.log") in str(caught.value) and "REDIS_URL" in str(caught.value)
    assert server.process is not None and server.process.poll() is not None


@pytest.mark.parametrize("url", ["http://localhost:6379", "localhost:6379", "redis//nohost"])
def test_connect_with_a_bad_url(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        connect(Settings(redis_url=url))
    assert "REDIS_URL" in str(caught.value)


def test_connect_uses_redis_url(redis_url: str) -> None:
    assert connect(Settings(redis_url=redis_url)).ping()


def test_connect_without_url_targets_the_embedded_socket(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    start(servers, tmp_path)
    conn = connect(Settings(data_dir=tmp_path))
    assert conn.ping()


def test_ensure_redis_keeps_a_configured_url() -> None:
    settings = Settings(redis_url="redis://example:6379/0")
    assert ensure_redis(settings) == (settings, None)


def test_ensure_redis_starts_and_exports_the_embedded_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", "")  # restored after the test, whatever ensure_redis sets
    settings, server = ensure_redis(Settings(data_dir=tmp_path))
    try:
        assert server is not None
        assert settings.redis_url == server.url
        assert os.environ["REDIS_URL"] == server.url
        assert connect(settings).ping()
    finally:
        if server:
            server.stop()


def test_the_embedded_server_is_current_capped_and_private(tmp_path: Path, servers: list[EmbeddedRedis]) -> None:
    """Valkey 9.1 (after the fixes of CVE-2026-21863 and CVE-2026-27623), a memory cap that refuses
    writes instead of evicting queued jobs, and files only their owner can read: they hold tokens."""
    stale = tmp_path / "redis.log"
    stale.write_text("from an older release\n")
    stale.chmod(0o644)
    server, conn = start(servers, tmp_path)
    info = conn.info("server")
    version = tuple(int(p) for p in str(info.get("valkey_version", "0")).split(".")[:2])
    assert version >= (9, 1), info
    assert conn.config_get("maxmemory")["maxmemory"] == str(512 * 1024 * 1024)
    assert conn.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    conn.set("token", "secret")
    conn.save()
    assert oct(tmp_path.stat().st_mode & 0o777) == "0o700"
    for entry in tmp_path.rglob("*"):
        if entry.is_file():
            assert entry.stat().st_mode & 0o077 == 0, f"{entry.name} is readable by others"
    assert oct(server.socket.stat().st_mode & 0o777) == "0o700"
