"""``ls-active check``: an admin's self-test of a running setup, one PASS or FAIL line per part.

Checks what the loop needs, in the order it needs it: Redis, a live RQ worker on the
backend's queues, the backend's ``/health``, Label Studio accepting the configured token,
and with ``--project``: the ML backend connection, the webhook to the backend, a recent
webhook event in the backend's own counters, and the project showing our predictions.
Every FAIL names the fix. The exit code is 0 only when every check passes.

Run in the folder of ``ls-active demo`` (or given ``--demo DIR``) it checks that demo: its
Redis, Label Studio, token, backend and project, with no other flag.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.errors import LabelStudioError, LsActiveError
from backend.labelstudio.client import LabelStudioClient
from backend.loop.state import ProjectState
from backend.ops.check_parts import (
    Result,
    check_backend,
    check_connection,
    check_events,
    check_model_version,
    check_redis,
    check_webhook,
    check_workers,
    label_studio_client,
)
from backend.settings import Settings

__all__ = ["Result", "add_parser", "run"]

DEFAULT_BACKEND_URL = "http://127.0.0.1:9090"
PARTS = ("redis", "worker", "backend", "label-studio", "project")
#: What ``ls-active demo`` writes into its folder (the addresses and project of its last run).
DEMO_STATE = "demo.json"


@dataclass(frozen=True)
class Target:
    """What to check: the settings to reach Redis and Label Studio, the backend, the project."""

    settings: Settings
    backend_url: str
    project: int | None
    ls_url: str
    token: str


def find_demo(given: str | None) -> Path | None:
    """The demo folder: ``--demo``, else the current folder or its ``demo-data`` holding ``demo.json``."""
    if given:
        folder = Path(given).expanduser().resolve()
        if not (folder / DEMO_STATE).exists():
            raise LsActiveError(f"--demo {given}: no {DEMO_STATE} there; give the folder `ls-active demo --dir` used")
        return folder
    for folder in (Path.cwd(), Path.cwd() / "demo-data"):
        if (folder / DEMO_STATE).exists():
            return folder
    return None


def _demo_target(folder: Path, settings: Settings) -> Target:
    from backend.labelstudio.local import CREDENTIALS_FILE
    from backend.loop.redis_server import socket_path

    state = json.loads((folder / DEMO_STATE).read_text())
    credentials = json.loads((folder / "label-studio" / CREDENTIALS_FILE).read_text())
    data_dir = folder / "backend"
    settings = replace(settings, redis_url=f"unix://{socket_path(data_dir)}", data_dir=data_dir,
                       model_dir=data_dir / "models", label_studio_url=state["label_studio_url"],
                       label_studio_api_key=credentials["token"], basic_auth_user="", basic_auth_pass="")
    return Target(settings, state["backend_url"], state.get("project"), settings.label_studio_url,
                  settings.label_studio_api_key)


def target(args: argparse.Namespace, settings: Settings) -> Target:
    """Flags first, then the demo folder's values (when run in one), then the environment."""
    demo = find_demo(args.demo)
    base = _demo_target(demo, settings) if demo else Target(settings, DEFAULT_BACKEND_URL, None,
                                                           settings.label_studio_url, settings.label_studio_api_key)
    return Target(base.settings, (args.backend_url or base.backend_url).rstrip("/"),
                  args.project if args.project is not None else base.project,
                  (args.ls_url or base.ls_url).rstrip("/"), args.token or base.token)


def _parts(spec: str) -> set[str]:
    chosen = {part.strip() for part in spec.split(",") if part.strip()} if spec else set(PARTS)
    unknown = chosen - set(PARTS)
    if unknown:
        raise LsActiveError(f"--only: unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    return chosen


def _project_checks(client: LabelStudioClient | None, project: int, backend_url: str,
                    needs_auth: bool) -> list[Result]:
    checks: list[tuple[str, Callable[[LabelStudioClient], Result]]] = [
        ("model connection", lambda c: check_connection(c, project, backend_url)),
        ("webhook", lambda c: check_webhook(c, project, backend_url, needs_auth)),
        ("model_version", lambda c: check_model_version(c, project)),
    ]
    results = []
    for name, check in checks:
        if client is None:
            results.append(Result(name, False, "not checked: Label Studio did not accept the token"))
            continue
        try:
            results.append(check(client))
        except LabelStudioError as exc:
            fix = (f"check that project {project} exists and the token's user can see it" if exc.status
                   else "retry once Label Studio answers")
            results.append(Result(name, False, f"Label Studio answered {exc.status or 'nothing'}", fix))
    return results


def collect(args: argparse.Namespace, settings: Settings) -> list[Result]:
    """Run the chosen checks; a part that cannot be reached fails the checks that need it."""
    from backend.loop.redis_server import connect, socket_path

    parts = _parts(args.only)
    aim = target(args, settings)
    url = aim.settings.redis_url or f"unix://{socket_path(aim.settings.data_dir)}"
    conn = connect(aim.settings)
    results: list[Result] = []
    redis_ok = False
    if parts & {"redis", "worker", "project"}:
        results.append(check_redis(conn, url))
        redis_ok = results[-1].ok
    if "worker" in parts:
        results.append(check_workers(conn, aim.settings, this_host=args.this_host) if redis_ok
                       else Result("RQ worker", False, "not checked: no Redis"))
    if "backend" in parts:
        results.append(check_backend(aim.backend_url, aim.settings))
    client = None
    if parts & {"label-studio", "project"}:
        client, ls_result = label_studio_client(aim.ls_url, aim.token)
        results.append(ls_result)
    if "project" in parts and aim.project is not None:
        results.extend(_project_checks(client, aim.project, aim.backend_url, aim.settings.basic_auth))
        results.append(check_events(ProjectState(conn), aim.project, args.max_age) if redis_ok
                       else Result("webhook events", False, "not checked: no Redis"))
    if client is not None:
        client.close()
    return results


def run(args: argparse.Namespace) -> int:
    """Print one line per check; 0 when all pass, 1 when one fails, 2 on a usage problem."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per check, not per request
    try:
        results = collect(args, Settings.from_env())
    except (LsActiveError, OSError, ValueError, KeyError) as exc:
        print(f"ls-active check: {exc}", file=sys.stderr)
        return 2
    for result in results:
        print("\n".join(result.lines()), flush=True)
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed} passed, {failed} failed", flush=True)
    return 0 if not failed else 1


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand; its handler is ``args.func(args) -> exit code``."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "check", help="self-test a running setup: Redis, workers, backend, Label Studio, a project",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", type=int, help="also check this Label Studio project's connection")
    p.add_argument("--only", default="", help=f"comma list of parts to check: {', '.join(PARTS)} (default: all)")
    p.add_argument("--this-host", action="store_true",
                   help="count only workers running on this machine (a worker container's health check)")
    p.add_argument("--backend-url", default="",
                   help=f"the backend's address as Label Studio knows it (default {DEFAULT_BACKEND_URL}, "
                        "or the demo's)")
    p.add_argument("--ls-url", default="", help="Label Studio's address (default: LABEL_STUDIO_URL, or the demo's)")
    p.add_argument("--token", default="", help="an API token (default: LABEL_STUDIO_API_KEY, or the demo's)")
    p.add_argument("--demo", default="", help="a folder of `ls-active demo` to check (found by itself when run in "
                                              "it, or beside its default ./demo-data)")
    p.add_argument("--max-age", type=float, default=86400.0,
                   help="seconds since the project's last webhook event still counted as recent (default 1 day)")
    p.set_defaults(func=run)
    return p
