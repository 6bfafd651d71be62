"""Small fits run on one thread.

Fitting a logistic regression on a few hundred rows, or clustering a thousand
candidates, gains nothing from BLAS or OpenMP threads; on a busy machine the threads
wait on each other instead. Measured here on 2 busy cores: committee fits took about
5 times longer with the default 2 threads than with 1.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    """Finding the thread pools takes tens of milliseconds, so it is done once."""
    return ThreadpoolController()


@contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS and OpenMP to one thread inside the block."""
    with _controller().limit(limits=1):
        yield
