"""Named entities end to end: a real Label Studio <Labels> project, real Redis, a real worker.

300 tweets of btc.conll are imported; the tests run in order as a campaign would: connect
(the cold start orders the pool), label sentences through the API as the labeling screen
saves spans (a skip and a sentence without entities among them), retrain at milestones,
and check that every unlabeled task gets one pre-annotated prediction of the new version,
its spans at the right characters, ordered least-confident first, better at each milestone.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from backend.defaults import COLD_START_VERSION
from backend.labelstudio.client import LabelStudioClient
from backend.loop.scheduling import Scheduler, slot_key
from backend.loop.state import ProjectState
from backend.settings import Settings
from backend.tasks.ner.conll import Sentence, read_conll
from backend.tasks.ner.figures import entity_scores
from backend.tasks.ner.tokens import tokenize
from tests.conftest import DATA, ROOT, Backend, backend_env
from tests.lsapi import LsApi, wait_until
from tests.processes import spawn, stop

POOL = 300
EVERY = 20
CONFIG = ('<View><Labels name="label" toName="text"><Label value="PER" background="red"/>'
          '<Label value="ORG" background="blue"/><Label value="LOC" background="green"/></Labels>'
          '<Text name="text" value="$text"/></View>')
pytestmark = pytest.mark.slow


def span_result(sentence: Sentence) -> list[dict[str, Any]]:
    """The result the labeling screen saves for a sentence's true entities."""
    text = sentence.text
    return [{"id": f"s{i}", "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
             "value": {"start": a, "end": b, "text": text[a:b], "labels": [label]}}
            for i, (a, b, label) in enumerate(sentence.spans())]


@dataclass
class NerLoop:
    ls: LsApi
    client: LabelStudioClient
    project: int
    gold: dict[int, Sentence]
    backend: Backend
    conn: redis.Redis
    env: dict[str, str]
    worker: subprocess.Popen[bytes] | None = None
    #: Each milestone's predicted tags per unlabeled task.
    guesses: list[dict[int, list[str]]] = field(default_factory=list)
    #: Skipped tasks: out of the pool (Label Studio counts no annotation on them, the loop does).
    skipped: set[int] = field(default_factory=set)

    @property
    def state(self) -> ProjectState:
        return ProjectState(self.conn)

    def settle(self, timeout: float = 240) -> str:
        def quiet() -> bool:
            if Scheduler(Settings.from_env(self.env), self.conn, self.state).work_in_flight():
                return False
            if self.conn.hget(slot_key(self.project), "status") not in (None, b"idle"):
                return False
            return self.ls.project(self.project)["model_version"] == self.state.current_version(self.project)

        wait_until(quiet, timeout, "the loop to settle", interval=1.0)
        return str(self.state.current_version(self.project))

    def label_next(self, n: int) -> None:
        """An annotator labels the next ``n`` tasks Label Studio serves, with their true spans."""
        for _ in range(n):
            task = self.ls.next_task(self.project)
            self.client.create_annotation(task["id"], span_result(self.gold[task["id"]]))

    def check_pool(self, version: str) -> dict[int, list[str]]:
        """One prediction of ``version`` per unlabeled task, spans at the right characters,
        Data Manager ascending; returns the predicted tags per task."""
        unlabeled = [t["id"] for t in self.ls.tasks(self.project)
                     if not t["total_annotations"] and t["id"] not in self.skipped]
        preds = self.ls.predictions(self.project)
        guess: dict[int, list[str]] = {}
        for task_id in unlabeled:
            mine = [p for p in preds.get(task_id, []) if p["model_version"] == version]
            assert len(mine) == 1, f"task {task_id} has {len(mine)} predictions of {version}"
            assert 0.0 <= mine[0]["score"] <= 1.0
            sentence = self.gold[task_id]
            tokens = tokenize(sentence.text)
            tags = ["O"] * len(tokens)
            for r in mine[0]["result"]:
                value = r["value"]
                assert r["type"] == "labels" and (r["from_name"], r["to_name"]) == ("label", "text")
                assert sentence.text[value["start"]:value["end"]] == value["text"]
                inside = [i for i, t in enumerate(tokens) if value["start"] <= t.start and t.end <= value["end"]]
                for j, i in enumerate(inside):
                    tags[i] = ("B-" if j == 0 else "I-") + value["labels"][0]
            guess[task_id] = tags
        listed = self.ls.unlabeled_by_score(self.project)
        order = [t["predictions_score"] for t in listed if t["id"] not in self.skipped]
        assert len(order) == len(unlabeled) and order == sorted(order), "Data Manager order is not ascending"
        return guess

    def f1_on(self, tasks: list[int], guess: dict[int, list[str]]) -> float:
        truth = [list(self.gold[t].tags) for t in tasks]
        return float(entity_scores(truth, [guess[t] for t in tasks])["micro"]["f1-score"])


@pytest.fixture(scope="module")
def ner(label_studio: Any, ls_client: LabelStudioClient, redis_url: str,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[NerLoop]:
    # tweets whose tokens the tokenizer gives back unchanged, so offsets and tags compare one to one
    sentences = [s for s in read_conll(DATA / "btc.conll")[::7]
                 if [t.text for t in tokenize(s.text)] == list(s.words)][:POOL]
    project = ls_client.create_project("named entities loop", CONFIG)
    ids = ls_client.import_tasks(project, [{"data": {"text": s.text}} for s in sentences])
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    tmp = tmp_path_factory.mktemp("ner")
    env = backend_env(redis_url, tmp, RETRAIN_EVERY=str(EVERY), LOG_LEVEL="INFO", KEEP_VERSIONS="1")
    backend = Backend(env, tmp)
    loop = NerLoop(LsApi(label_studio.url, label_studio.token), ls_client, project,
                   dict(zip(ids, sentences, strict=True)), backend, conn, env)
    log = open(tmp / "worker.log", "ab")  # noqa: SIM115
    loop.worker = spawn([sys.executable, "-m", "backend.cli", "worker"], env=env, cwd=ROOT, stdout=log,
                        stderr=subprocess.STDOUT)
    try:
        yield loop
    finally:
        stop(loop.worker)
        backend.stop()
        log.close()
        conn.flushdb()


def test_connecting_a_labels_project_orders_the_pool(ner: NerLoop) -> None:
    assert ner.ls.connect_backend(ner.project, ner.backend.url)["state"] == "CO"
    assert ner.settle() == COLD_START_VERSION
    ner.check_pool(COLD_START_VERSION)
    config = ner.state.config(ner.project)
    assert config is not None and config.schema.kind == "ner" and config.strategy == "entropy_sum"


def test_each_milestone_pre_annotates_the_pool_better(ner: NerLoop) -> None:
    skipped = ner.ls.next_task(ner.project)["id"]
    ner.client.create_annotation(skipped, [], was_cancelled=True)  # a skip teaches nothing
    ner.skipped.add(skipped)
    empty = next(t for t, s in ner.gold.items() if not s.spans() and t != skipped)
    ner.client.create_annotation(empty, [])  # "no entity here" is a label
    seen = {COLD_START_VERSION}
    for size in (EVERY, 3 * EVERY):
        ner.label_next(size)
        version = ner.settle()
        assert version not in seen, "no new model_version after a milestone"
        seen.add(version)
        ner.guesses.append(ner.check_pool(version))
    record = ner.state.versions(ner.project)[-1]
    assert record["kind"] == "ner" and record["n_labels"] >= 3 * EVERY, record
    assert record["label_counts"]["PER"] > 0 and record["n_tokens"] > record["n_labels"]
    # both versions judged on the same sentences: those still unlabeled at the end
    still = sorted(ner.guesses[-1])
    f1 = [ner.f1_on(still, guess) for guess in ner.guesses]
    assert f1[-1] > f1[0] and f1[-1] > 0.15, f1  # seen: 0.18 then 0.28


def test_predict_answers_pushed_scores_with_spans(ner: NerLoop) -> None:
    version = ner.settle()
    preds = ner.ls.predictions(ner.project)
    task_id = next(t for t, p in preds.items() if any(x["model_version"] == version and x["result"] for x in p))
    pushed = next(x for x in preds[task_id] if x["model_version"] == version)
    answer = requests.post(ner.backend.url + "/predict", timeout=30, json={
        "project": ner.project, "tasks": [{"id": task_id, "data": {"text": ner.gold[task_id].text}}]}).json()
    (result,) = answer["results"]
    assert result["model_version"] == version and result["score"] == pytest.approx(pushed["score"], abs=1e-6)
    assert [r["value"] for r in result["result"]] == [r["value"] for r in pushed["result"]]


def test_the_report_shows_entity_scores(ner: NerLoop, tmp_path: Path) -> None:
    version = ner.settle()

    def reported() -> dict[str, Any] | None:
        mine = requests.get(f"{ner.backend.url}/metrics?project={ner.project}", timeout=30).json()
        mine = mine["projects"][str(ner.project)]
        return mine if mine["report_version"] == version else None

    mine = wait_until(reported, 120, "the report of the last version")
    evaluation = mine["report"]["evaluation"]
    assert evaluation["status"] == "ok" and set(evaluation["per_type"]) == {"PER", "ORG", "LOC"}
    assert 0.0 < evaluation["micro"]["f1-score"] <= 1.0
    estimate = mine["report"]["estimate"]
    assert estimate["measure"] == "entity_f1" and estimate["n_audit"] + estimate["needed"] == estimate["min_audit"]
    page = requests.get(f"{ner.backend.url}/report/{ner.project}", timeout=30).text
    assert "Entity F1" in page
    assert f"the estimate needs {estimate['needed']} more audit label(s)" in page or "Entity F1 (micro)" in page
