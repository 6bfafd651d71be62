"""``ls-active demo --data file.conll``: a named-entity project on a real Label Studio."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from backend.ops.demo_conll import BTC_CREDIT
from backend.ops.demo_data import DemoDataError, load_demo_data
from backend.tasks import parse_label_config
from backend.tasks.ner.conll import Sentence, read_conll
from backend.tasks.ner.schema import SpanSchema
from tests.conftest import DATA
from tests.lsapi import wait_until
from tests.ops.test_demo import Demo, ready_demo

BTC = DATA / "btc.conll"
LIMIT = 200
#: Sentences labeled through the API (tweets hold few entities: a CRF on so few may predict none).
LABELS = 60


# -- what the demo imports (fast) --------------------------------------------------------------

def test_a_conll_file_makes_a_labels_project_of_its_entity_types() -> None:
    data = load_demo_data(BTC, limit=LIMIT)
    schema = parse_label_config(data.label_config)
    assert isinstance(schema, SpanSchema) and schema.labels == ("LOC", "ORG", "PER")
    first = read_conll(BTC)[:LIMIT]
    assert data.texts == tuple(s.text for s in first) and data.name == "btc"
    assert data.tasks()[0] == {"data": {"text": " ".join(first[0].words)}}
    assert "Broad Twitter Corpus" in data.credit and "CC BY 4.0" in data.credit


def test_another_conll_file_gets_its_own_types_and_no_credit(tmp_path: Path) -> None:
    path = tmp_path / "mine.conll"
    path.write_text("Ada\tB-PERSON\nmet\tO\nIBM\tB-COMPANY\n\nhello\tO\n\nhello\tO\n", encoding="utf-8")
    data = load_demo_data(path)
    schema = parse_label_config(data.label_config)
    assert isinstance(schema, SpanSchema) and schema.labels == ("COMPANY", "PERSON")
    assert data.texts == ("Ada met IBM", "hello"), "a repeated sentence is one task"
    assert data.credit == ""


@pytest.mark.parametrize(("content", "message"), [
    ("a\tO\nb\tO\n", "tags no entity"),
    ("a\tB-X\nb\tX-Y\n", "line 2: tag .X-Y."),
])
def test_unusable_conll_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DemoDataError, match=message):
        load_demo_data(path)


# -- the demo end to end (slow: its own Label Studio) --------------------------------------------

@pytest.fixture(scope="module")
def ner_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with ready_demo(tmp_path_factory.mktemp("ner-demo") / "demo-data", "ner", ("--data", str(BTC)),
                    limit=LIMIT) as running:
        yield running


def span_result(sentence: Sentence) -> list[dict[str, Any]]:
    return [{"from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
             "value": {"start": a, "end": b, "text": sentence.text[a:b], "labels": [label]}}
            for a, b, label in sentence.spans()]


@pytest.mark.slow
def test_the_ner_demo_is_connected_scored_and_learns_spans(ner_demo: Demo) -> None:
    assert BTC_CREDIT in ner_demo.text()
    ls, project = ner_demo.api, ner_demo.state["project"]
    info = ls.project(project)
    assert info["title"] == "ls-active demo (btc)" and info["task_number"] == LIMIT
    assert "<Labels" in info["label_config"] and info["model_version"] == "ls-active-cold-start"
    assert info["sampling"] == "Uncertainty sampling"
    (ml,) = ls.call("GET", f"api/ml?project={project}")
    assert ml["url"] == f"http://127.0.0.1:{ner_demo.backend_port}" and ml["state"] == "CO"
    gold = {s.text: s for s in read_conll(BTC)[:LIMIT]}
    labeled: list[str] = []
    for _ in range(LABELS):  # RETRAIN_EVERY=5 in start_demo: an annotator labels what is served
        task = ls.next_task(project)
        labeled.append(task["data"]["text"])
        result = span_result(gold[task["data"]["text"]])
        ls.call("POST", f"api/tasks/{task['id']}/annotations/", json={"result": result})
    texts = {t["id"]: t["data"]["text"] for t in ls.tasks(project, include="id,data")}

    backend = f"http://127.0.0.1:{ner_demo.backend_port}"

    def trained_on_every_label() -> tuple[str, list[dict[str, Any]]] | None:
        version = str(ls.project(project)["model_version"])
        current = [p for ps in ls.predictions(project).values() for p in ps if p["model_version"] == version]
        mine = requests.get(f"{backend}/metrics?project={project}", timeout=30).json()["projects"][str(project)]
        record = next((v for v in mine["versions"] if v["version"] == version), {})
        done = record.get("n_labels") == LABELS and len(current) == LIMIT - LABELS
        return (version, current) if done else None

    version, current = wait_until(trained_on_every_label, 600, f"a CRF version on the {LABELS} labels",
                                  interval=3.0)
    mine = requests.get(f"{backend}/metrics?project={project}", timeout=30).json()["projects"][str(project)]
    record = next(v for v in mine["versions"] if v["version"] == version)
    truth = Counter(label for t in labeled for _, _, label in gold[t].spans())
    assert record["label_counts"] == {k: truth.get(k, 0) for k in ("LOC", "ORG", "PER")}, "spans became tags"
    order = ls.unlabeled_by_score(project)
    scores = [t["predictions_score"] for t in order]
    assert len(order) == LIMIT - LABELS and None not in scores and scores == sorted(scores)
    for p in current:
        for r in p["result"]:
            assert r["type"] == "labels" and r["from_name"] == "label" and r["to_name"] == "text"
            assert r["value"]["labels"][0] in ("LOC", "ORG", "PER")
            assert texts[p["task"]][r["value"]["start"]:r["value"]["end"]] == r["value"]["text"], version
