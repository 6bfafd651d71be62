"""The web server: gunicorn with gevent workers, made for slow and stalled clients.

A thread per connection (gunicorn's gthread) let twelve stalled connections stop ``/health``.
Here every connection is a greenlet, so a stalled one costs a little memory and no thread;
the request head must arrive within ``keepalive`` seconds (gunicorn's own rule for async
workers) and every later read or write on the socket within ``CLIENT_TIMEOUT`` seconds, or
the connection is closed. The app is loaded after gevent patches the standard library, so
Redis calls yield to other requests.
"""

from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from backend import defaults
from backend.settings import Settings


class SlowClientWorker(GeventWorker):
    """gunicorn's gevent worker with a deadline on every socket operation of a connection."""

    client_timeout = defaults.CLIENT_TIMEOUT

    def init_process(self) -> None:
        self.client_timeout = Settings.from_env().client_timeout
        super().init_process()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # GeventWorker.handle would make the socket blocking without a time-out: keep one
        client.settimeout(self.client_timeout)
        AsyncWorker.handle(self, listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> None:
        # A keep-alive client whose next request is already waiting would otherwise be served
        # again at once, without the connection ever giving way: reads that find data do not
        # yield. Under load a few fast connections then keep a worker while the others wait
        # seconds (measured: p50 12 ms, p99 6 s). Yielding once per request serves the ready
        # connections in turn.
        gevent.sleep(0.0001)
        super().handle_request(listener_name, req, sock, addr)
