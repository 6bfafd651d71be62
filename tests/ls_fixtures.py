"""Pytest fixtures for a real Label Studio: one server per test run, projects on demand.

Loaded as a plugin (``pytest_plugins = ["tests.ls_fixtures"]``). The first test that needs
Label Studio installs it if missing (a few minutes, once per machine) and starts it (about
30 s on a fresh data folder). To reuse a server that already runs, set
``LS_ACTIVE_TEST_LS_URL`` and ``LS_ACTIVE_TEST_LS_TOKEN`` (a legacy token), and
``LS_ACTIVE_TEST_LS_USERNAME`` (the token's user).
Every test that uses these fixtures is marked ``labelstudio``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest

from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.local import LocalLabelStudio
from tests.conftest import load_rows

TREC6_LABELS = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
LS_FIXTURES = ("label_studio", "ls_client", "make_project")


def label_config(labels: Sequence[str], *, from_name: str = "label", to_name: str = "text",
                 value: str = "$text", multiple: bool = False) -> str:
    """A text classification config: one ``Text`` and one ``Choices`` with ``labels``."""
    choice = "multiple" if multiple else "single"
    options = "".join(f"<Choice value={quoteattr(label)}/>" for label in labels)
    return (f"<View><Text name={quoteattr(to_name)} value={quoteattr(value)}/>"
            f"<Choices name={quoteattr(from_name)} toName={quoteattr(to_name)} "
            f"choice={quoteattr(choice)}>{options}</Choices></View>")


def choices_result(*labels: str, from_name: str = "label",
                   to_name: str = "text") -> list[dict[str, Any]]:
    """The ``result`` of an annotation or prediction that picks ``labels``."""
    return [{"from_name": from_name, "to_name": to_name, "type": "choices",
             "value": {"choices": list(labels)}}]


def read_trec6(limit: int | None = None) -> tuple[list[str], list[str]]:
    """Texts and their true labels from ``trec6.csv``, in file order."""
    rows = load_rows("trec6.csv")[:limit]
    return [r["text"] for r in rows], [r["label"] for r in rows]


@dataclass(frozen=True)
class RunningLabelStudio:
    """A Label Studio started elsewhere; same attributes as :class:`LocalLabelStudio`."""

    url: str
    token: str = field(repr=False)
    username: str = ""
    password: str = field(default="", repr=False)

    def personal_access_token(self) -> str:
        with LabelStudioClient(self.url, self.token) as client:
            return client.create_personal_access_token()

    def client(self, token: str | None = None) -> LabelStudioClient:
        return LabelStudioClient(self.url, token or self.token)


@dataclass
class LsProject:
    """A project made by ``make_project``: its tasks in import order, with their true labels."""

    client: LabelStudioClient
    id: int
    task_ids: list[int]
    texts: list[str]
    gold: list[str]
    labels: tuple[str, ...]

    @property
    def gold_by_task(self) -> dict[int, str]:
        return dict(zip(self.task_ids, self.gold, strict=True))

    def annotate(self, task_id: int, *labels: str) -> int:
        """Label a task as an annotator would; no labels given = its true label."""
        chosen = labels or (self.gold_by_task[task_id],)
        return self.client.create_annotation(task_id, choices_result(*chosen))

    def skip(self, task_id: int) -> int:
        """Skip a task as an annotator would (a cancelled annotation with no result)."""
        return self.client.create_annotation(task_id, [], was_cancelled=True)


MakeProject = Callable[..., LsProject]


@pytest.fixture(scope="session")
def label_studio(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalLabelStudio | RunningLabelStudio]:
    """One Label Studio for the whole run: reused from the environment, or started here."""
    url = os.environ.get("LS_ACTIVE_TEST_LS_URL", "").strip().rstrip("/")
    token = os.environ.get("LS_ACTIVE_TEST_LS_TOKEN", "").strip()
    if url and token:
        yield RunningLabelStudio(url, token, os.environ.get("LS_ACTIVE_TEST_LS_USERNAME", ""),
                                 os.environ.get("LS_ACTIVE_TEST_LS_PASSWORD", ""))
        return
    server = LocalLabelStudio(tmp_path_factory.mktemp("label-studio") / "data")
    with server:
        yield server


@pytest.fixture(scope="session")
def ls_client(label_studio: LocalLabelStudio | RunningLabelStudio) -> Iterator[LabelStudioClient]:
    """A client of the session's Label Studio, authenticated with the legacy token."""
    with LabelStudioClient(label_studio.url, label_studio.token) as client:
        yield client


@pytest.fixture
def make_project(ls_client: LabelStudioClient) -> MakeProject:
    """Factory: ``make_project(texts=200, labels=TREC6_LABELS, label_config=None, title=None)``.

    ``texts`` is a number (the first rows of trec6.csv, with their true labels) or a list of
    strings (true labels then unknown: empty). All tasks go in one import request.
    """

    def make(texts: int | Sequence[str] = 200, *, labels: Sequence[str] = TREC6_LABELS,
             label_config: str | None = None, title: str | None = None) -> LsProject:
        if isinstance(texts, int):
            chosen, gold = read_trec6(texts)
        else:
            chosen, gold = list(texts), [""] * len(texts)
        config = label_config or _default_config(labels)
        project_id = ls_client.create_project(title or f"test project {len(chosen)}", config)
        task_ids = ls_client.import_tasks(
            project_id, [{"data": {"text": text, "ref": i}} for i, text in enumerate(chosen)])
        if len(task_ids) != len(chosen):
            raise LabelStudioError(f"imported {len(task_ids)} of {len(chosen)} tasks",
                                   retryable=False)
        return LsProject(ls_client, project_id, task_ids, chosen, gold, tuple(labels))

    return make


def _default_config(labels: Sequence[str]) -> str:
    return label_config(labels)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a Label Studio fixture, so ``-m "not labelstudio"`` works."""
    for item in items:
        if set(getattr(item, "fixturenames", ())) & set(LS_FIXTURES):
            item.add_marker(pytest.mark.labelstudio)
