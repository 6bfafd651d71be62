"""The Label Studio client against a real Label Studio 1.23 (one server for the session)."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from backend.defaults import QUEUE_VIEW_TITLE
from backend.errors import LabelStudioError
from backend.labelstudio.client import LabelStudioClient
from backend.labelstudio.local import LocalLabelStudio, free_port
from backend.loop.cleanup import CLEANUP_PACE, delete_versions
from tests.ls_fixtures import LsProject, MakeProject, RunningLabelStudio, choices_result

AnyLabelStudio = LocalLabelStudio | RunningLabelStudio


def _predictions(project: LsProject, task_ids: list[int], scores: np.ndarray,
                 version: str) -> list[dict[str, object]]:
    return [{"task": task_id, "result": choices_result(project.labels[i % len(project.labels)]),
             "score": float(score), "model_version": version}
            for i, (task_id, score) in enumerate(zip(task_ids, scores, strict=True))]


@pytest.mark.labelstudio
@pytest.mark.slow
def test_paging_reads_every_task_and_splits_labeled(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(1200)
    done, skipped = project.task_ids[0:1200:300], [project.task_ids[7], project.task_ids[1199]]
    for task_id in done:
        project.annotate(task_id)
    for task_id in skipped:
        project.skip(task_id)

    labeled = list(ls_client.iter_tasks(project.id, labeled=True, page_size=500))
    unlabeled = list(ls_client.iter_tasks(project.id, labeled=False, page_size=500))
    everything = list(ls_client.iter_tasks(project.id, labeled=None, page_size=500))

    assert sorted(t["id"] for t in labeled) == sorted(done + skipped)
    assert len(unlabeled) == 1200 - len(done) - len(skipped)
    assert {t["id"] for t in labeled}.isdisjoint(t["id"] for t in unlabeled)
    ids = [t["id"] for t in everything]
    assert ids == sorted(project.task_ids)  # every page read, in id order, none twice
    texts = dict(zip(project.task_ids, project.texts, strict=True))
    assert all(t["data"]["text"] == texts[t["id"]] for t in unlabeled + labeled)
    assert all(set(t) == {"id", "data"} for t in unlabeled)
    by_id = {t["id"]: t for t in labeled}
    for task_id in done:
        (annotation,) = by_id[task_id]["annotations"]
        assert annotation["was_cancelled"] is False
        assert annotation["result"] == choices_result(project.gold_by_task[task_id])
        assert isinstance(annotation["completed_by"], int) and isinstance(annotation["id"], int)
    for task_id in skipped:
        (annotation,) = by_id[task_id]["annotations"]
        assert annotation["was_cancelled"] is True and annotation["result"] == []


@pytest.mark.labelstudio
def test_paging_with_tiny_pages_crosses_many_pages(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(23)
    for task_id in project.task_ids[::4]:
        project.annotate(task_id)
    labeled = [t["id"] for t in ls_client.iter_tasks(project.id, labeled=True, page_size=2)]
    unlabeled = [t["id"] for t in ls_client.iter_tasks(project.id, labeled=False, page_size=3)]
    assert labeled == project.task_ids[::4]
    assert sorted(labeled + unlabeled) == project.task_ids


@pytest.mark.labelstudio
def test_import_predictions_creates_one_per_task(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(300)
    scores = np.random.default_rng(0).random(300)
    created = ls_client.import_predictions(
        project.id, _predictions(project, project.task_ids, scores, "v1"))
    assert created == 300
    assert ls_client.list_prediction_versions(project.id) == {"v1": 300}


@pytest.mark.labelstudio
def test_import_predictions_splits_above_the_request_limit(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(25)
    preds = _predictions(project, project.task_ids, np.linspace(0, 1, 25), "v1")
    assert ls_client.import_predictions(project.id, preds, max_per_request=10) == 25
    assert ls_client.list_prediction_versions(project.id) == {"v1": 25}
    assert ls_client.import_predictions(project.id, []) == 0


@pytest.mark.labelstudio
def test_import_predictions_raises_when_label_studio_drops_some(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(5)
    preds = _predictions(project, project.task_ids, np.full(5, 0.5), "v1")
    preds[2]["result"] = choices_result("NOT-A-CHOICE")
    with pytest.raises(LabelStudioError, match="created 4 of 5") as caught:
        ls_client.import_predictions(project.id, preds)
    assert caught.value.retryable is False
    wrong_name = _predictions(project, project.task_ids[:2], np.full(2, 0.5), "v2")
    wrong_name[0]["result"] = choices_result("HUM", from_name="nope")
    with pytest.raises(LabelStudioError, match="created 1 of 2"):
        ls_client.import_predictions(project.id, wrong_name)


@pytest.mark.labelstudio
def test_model_version_decides_the_queue_view_order(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(40)
    annotated = project.task_ids[5]
    project.annotate(annotated)
    scores = np.random.default_rng(1).random(40)
    ls_client.import_predictions(project.id, _predictions(project, project.task_ids, scores, "v1"))
    ls_client.import_predictions(project.id,
                                 _predictions(project, project.task_ids, 1 - scores, "v2"))
    view = ls_client.ensure_queue_view(project.id)
    assert ls_client.ensure_queue_view(project.id) == view  # created once

    for version, expected in (("v2", 1 - scores), ("v1", scores)):
        ls_client.set_model_version(project.id, version)
        assert ls_client.get_project(project.id)["model_version"] == version
        listed = ls_client.tasks_in_view_order(view, page_size=15)
        want = {t: float(s) for t, s in zip(project.task_ids, expected, strict=True)
                if t != annotated}
        assert [t["id"] for t in listed] == sorted(want, key=want.__getitem__)
        got = [t["predictions_score"] for t in listed]
        assert got == pytest.approx(sorted(want.values()))
    assert len(ls_client.tasks_in_view_order(view, limit=7)) == 7


@pytest.mark.labelstudio
def test_queue_view_filters_labeled_tasks_and_has_the_title(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(6)
    project.annotate(project.task_ids[0])
    view = ls_client.ensure_queue_view(project.id)
    listed = [t["id"] for t in ls_client.tasks_in_view_order(view)]
    assert listed == project.task_ids[1:]  # no scores yet: unscored tasks keep id order
    custom = ls_client.ensure_queue_view(project.id, title="Another tab")
    assert custom != view
    assert QUEUE_VIEW_TITLE != "Another tab"


@pytest.mark.labelstudio
def test_a_version_is_deleted_a_prediction_at_a_time_and_the_current_one_never(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(30)
    scores = np.linspace(0.0, 1.0, 30)
    for version in ("v1", "v2", "v1-and-more"):
        ls_client.import_predictions(project.id,
                                     _predictions(project, project.task_ids, scores, version))
    ls_client.set_model_version(project.id, "v2")
    pages = list(ls_client.prediction_ids(project.id, "v1", page_size=7))
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]  # one page of tasks each, only v1's predictions
    ids = [i for page in pages for i in page]
    assert len(set(ids)) == 30
    assert ls_client.delete_prediction(ids[0]) is True
    assert ls_client.delete_prediction(ids[0]) is False  # already gone
    result = delete_versions(ls_client, project.id, ["v1"], "v2", replace(CLEANUP_PACE, pause_idle=0.0))
    assert (result.deleted, result.finished) == (29, True)
    assert ls_client.list_prediction_versions(project.id) == {"v2": 30, "v1-and-more": 30}
    with pytest.raises(LabelStudioError, match="current model_version") as caught:
        delete_versions(ls_client, project.id, ["v2"], "v2", CLEANUP_PACE)
    assert caught.value.retryable is False
    assert ls_client.list_prediction_versions(project.id) == {"v2": 30, "v1-and-more": 30}
    assert ls_client.get_project(project.id)["model_version"] == "v2"


@pytest.mark.labelstudio
def test_a_cleanup_stops_at_once_when_other_work_waits(
    ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(10)
    for version in ("v1", "v2"):
        ls_client.import_predictions(project.id, _predictions(project, project.task_ids, np.zeros(10), version))
    ls_client.set_model_version(project.id, "v2")
    asked = []

    def others_waiting() -> bool:
        asked.append(1)
        return len(asked) > 3

    result = delete_versions(ls_client, project.id, ["v1"], "v2", replace(CLEANUP_PACE, pause_idle=0.0),
                             others_waiting)
    assert (result.deleted, result.finished, result.out_of_time) == (3, False, False)
    assert ls_client.list_prediction_versions(project.id)["v1"] == 7
    out_of_time = delete_versions(ls_client, project.id, ["v1"], "v2", replace(CLEANUP_PACE, budget=0.0))
    assert (out_of_time.deleted, out_of_time.finished, out_of_time.out_of_time) == (0, False, True)


@pytest.mark.labelstudio
def test_set_sampling(ls_client: LabelStudioClient, make_project: MakeProject) -> None:
    project = make_project(3)
    assert ls_client.get_project(project.id)["sampling"] != "Uncertainty sampling"
    ls_client.set_sampling(project.id)
    assert ls_client.get_project(project.id)["sampling"] == "Uncertainty sampling"


@pytest.mark.labelstudio
def test_missing_project_is_a_non_retryable_error_naming_it(ls_client: LabelStudioClient) -> None:
    for call in (lambda: ls_client.get_project(987654),
                 lambda: list(ls_client.iter_tasks(987654, labeled=False))):
        with pytest.raises(LabelStudioError, match="987654") as caught:
            call()
        assert caught.value.status == 404 and caught.value.retryable is False


@pytest.mark.labelstudio
def test_bad_token_error_names_the_fix(label_studio: AnyLabelStudio) -> None:
    secret = "0123456789abcdef-not-a-real-token"
    client = LabelStudioClient(label_studio.url, secret)
    with client, pytest.raises(LabelStudioError) as caught:
        client.get_project(1)
    error = caught.value
    assert error.status == 401 and error.retryable is False
    assert "--enable-legacy-api-token" in str(error)
    assert "LABEL_STUDIO_API_KEY" in str(error) and "personal access token" in str(error)
    assert secret not in str(error) and secret not in repr(client)


def test_unreachable_url_is_retryable_and_quick() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    client = LabelStudioClient(url, "secret-token-123", max_retries=0)
    with client, pytest.raises(LabelStudioError) as caught:
        client.get_project(1)
    assert time.monotonic() - started < 5
    assert caught.value.retryable is True
    assert "unreachable" in str(caught.value) and url in str(caught.value)
    assert "secret-token-123" not in str(caught.value)


def test_missing_url_or_key_is_a_configuration_error() -> None:
    with pytest.raises(LabelStudioError, match="LABEL_STUDIO_URL"):
        LabelStudioClient("", "token-123")
    with pytest.raises(LabelStudioError, match="LABEL_STUDIO_API_KEY"):
        LabelStudioClient("http://127.0.0.1:1", "")


@pytest.mark.labelstudio
def test_token_never_appears_in_repr_or_errors(
    label_studio: AnyLabelStudio, ls_client: LabelStudioClient, make_project: MakeProject
) -> None:
    project = make_project(2)
    pat = label_studio.personal_access_token()
    with LabelStudioClient(label_studio.url, pat) as with_pat:
        assert with_pat.get_project(project.id)["id"] == project.id  # a PAT works
        clients = (ls_client, with_pat)
        failures = (
            lambda c: c.get_project(987654),
            lambda c: c.set_model_version(project.id, "no-such-version"),
            lambda c: c.import_predictions(project.id, [{"task": 10**9, "result": []}]),
        )
        messages = []
        for client in clients:
            messages.append(repr(client))
            for fail in failures:
                with pytest.raises(LabelStudioError) as caught:
                    fail(client)
                messages.append(str(caught.value))
        access = with_pat._access_token()
    assert access  # the SDK did exchange the PAT for an access token
    for secret in (label_studio.token, pat, access):
        assert all(secret not in message for message in messages)
    assert any("no-such-version" in m for m in messages)  # errors keep the useful detail


def test_a_url_that_is_not_label_studio_gives_a_clear_error() -> None:
    class HtmlPage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>a web page</html>")

        def log_message(self, *args: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), HtmlPage) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        client = LabelStudioClient(f"http://127.0.0.1:{site.server_address[1]}", "token-123")
        with client, pytest.raises(LabelStudioError, match="not JSON"):
            client.get_project(1)
        site.shutdown()
