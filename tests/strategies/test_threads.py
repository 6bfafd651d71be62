"""Small fits run on one thread, and the limit is lifted afterwards."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from strategies._threads import one_thread


def _blas_threads() -> list[int]:
    return [int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_thread_inside_and_restored_after() -> None:
    before = _blas_threads()
    with one_thread():
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
