"""``ls-active``: serve the backend, run workers, train by hand, simulate strategies."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

# One BLAS thread per process: the service runs several processes (gunicorn workers, RQ
# workers) on few cores, and oversubscribed BLAS threads made one fit 50 times slower.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from backend import defaults  # noqa: E402
from backend.errors import LsActiveError  # noqa: E402
from backend.logs import configure_logging  # noqa: E402
from backend.settings import Settings  # noqa: E402

log = logging.getLogger("ls-active")


def _gunicorn_args(host: str, port: int, workers: int, settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "backend.service.wsgi:app",
        "--bind", f"{host}:{port}", "--workers", str(workers),
        "--worker-class", "backend.service.server.SlowClientWorker",
        "--worker-connections", str(defaults.WEB_CONNECTIONS), "--keep-alive", str(defaults.KEEPALIVE),
        "--timeout", str(defaults.WEB_TIMEOUT),
        "--log-level", settings.log_level.lower(), "--access-logfile", "-",
        "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    ]


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """gunicorn + one RQ worker (+ the embedded Redis when REDIS_URL is unset), stopped together."""
    from backend.loop.redis_server import ensure_redis

    settings, redis_server = ensure_redis(settings)
    env = {**os.environ, "REDIS_URL": settings.redis_url}
    web = _gunicorn_args(args.host, args.port, args.workers or settings.web_workers, settings)
    children = [subprocess.Popen(web, env=env)]
    if not args.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "backend.cli", "worker"], env=env))
    log.info("ls-active listening on http://%s:%d (Redis %s)", args.host, args.port,
             "embedded" if redis_server else "from REDIS_URL")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            exited = [c for c in children if c.poll() is not None]
            if exited:
                code = exited[0].returncode or 1
                log.error("a child process (pid %s) exited; stopping everything", exited[0].pid)
                break
            time.sleep(0.2)
    finally:
        _stop_all(children)
        if redis_server:
            redis_server.stop()
    log.info("stopped")
    return code


def cmd_web(args: argparse.Namespace, settings: Settings) -> int:
    """gunicorn alone, for deployments that run workers separately."""
    os.execv(sys.executable, _gunicorn_args(args.host, args.port, args.workers or settings.web_workers, settings))


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from backend.loop.redis_server import ensure_redis
    from backend.loop.worker import run_worker

    settings, server = ensure_redis(settings)
    try:
        run_worker(settings, burst=args.burst)
    finally:
        if server:
            server.stop()
    return 0


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Train from Label Studio now, in this process, and publish a new version."""
    from backend.loop import jobs
    from backend.loop.redis_server import ensure_redis
    from backend.loop.rescoring import rescore_pool
    from backend.loop.training import train_and_publish

    settings, server = ensure_redis(settings)
    try:
        svc = jobs.services(settings)
        result = train_and_publish(svc, args.project)
        if args.rescore:
            rescore_pool(svc, args.project, result["version"])
    finally:
        if server:
            server.stop()
    print(f"project {args.project}: published {result['version']} from {result['n_labels']} labels")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ls-active", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (("serve", "web service + worker (+ embedded Redis)"), ("web", "web service only")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"),
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "9090")))
        p.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: WEB_WORKERS)")
        if name == "serve":
            p.add_argument("--no-worker", action="store_true", help="do not start an RQ worker")
    w = sub.add_parser("worker", help="run an RQ worker for the training and scoring queues")
    w.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    t = sub.add_parser("train", help="train a project's model from Label Studio now")
    t.add_argument("--project", type=int, required=True, help="Label Studio project id")
    t.add_argument("--rescore", action="store_true", help="also push fresh scores for the unlabeled pool")
    from backend.ops import check, demo
    from backend.simulate import command as simulate

    simulate.add_parser(sub)
    demo.add_parser(sub)
    check.add_parser(sub)
    return parser


COMMANDS = {"serve": cmd_serve, "web": cmd_web, "worker": cmd_worker, "train": cmd_train}
#: Commands whose files only their owner may read.
PRIVATE = ("serve", "web", "worker", "train", "demo")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if args.command in PRIVATE:
            os.umask(0o077)  # models, Redis files and logs hold tokens and labeled texts
        if args.command in COMMANDS:
            return COMMANDS[args.command](args, settings)
        return int(args.func(args))
    except LsActiveError as exc:
        print(f"ls-active: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
