"""What an admin does in Label Studio's settings: ML backends, webhooks, tabs, tokens."""

from __future__ import annotations

from typing import Any, cast

from backend import defaults
from backend.errors import LabelStudioError
from backend.labelstudio.connection import Connection
from backend.labelstudio.filters import unlabeled


class Admin(Connection):
    def whoami(self) -> dict[str, Any]:
        """The token's user (``email``, ``username``, ``id``): proof the token is accepted."""
        answer: dict[str, Any] = self._raw("GET", "api/current-user/whoami", "checking the token")
        return answer

    # -- ML backends and webhooks ----------------------------------------------------------------
    def ml_backends(self, project_id: int) -> list[dict[str, Any]]:
        answer = self._raw("GET", "api/ml", "listing ML backends", project_id, params={"project": project_id})
        return list(answer or [])

    def add_ml_backend(self, project_id: int, url: str, title: str = defaults.ML_BACKEND_TITLE, *,
                       basic_auth: tuple[str, str] | None = None) -> dict[str, Any]:
        """Connect an ML backend to the project (Label Studio calls its /health and /setup)."""
        body: dict[str, Any] = {"project": project_id, "url": url, "title": title}
        if basic_auth:
            body.update(auth_method="BASIC_AUTH", basic_auth_user=basic_auth[0], basic_auth_pass=basic_auth[1])
        answer: dict[str, Any] = self._raw("POST", "api/ml", f"connecting the ML backend at {url}", project_id,
                                           json=body)
        return answer

    def delete_ml_backend(self, backend_id: int) -> None:
        self._raw("DELETE", f"api/ml/{int(backend_id)}", f"removing ML backend {backend_id}")

    def start_training(self, backend_id: int) -> None:
        """What the model card's "Start Training" does."""
        self._raw("POST", f"api/ml/{int(backend_id)}/train", "starting training", json={})

    def webhooks(self, project_id: int) -> list[dict[str, Any]]:
        answer = self._raw("GET", "api/webhooks/", "listing webhooks", project_id, params={"project": project_id})
        return list(answer or [])

    def add_webhook(self, project_id: int, url: str) -> None:
        self._raw("POST", "api/webhooks/", f"creating the webhook to {url}", project_id,
                  json={"project": project_id, "url": url, "send_payload": True, "send_for_all_actions": True})

    def set_webhook_headers(self, webhook_id: int, headers: dict[str, str]) -> None:
        """Headers Label Studio sends with every call of this webhook."""
        self._raw("PATCH", f"api/webhooks/{int(webhook_id)}/", f"updating webhook {webhook_id}",
                  json={"headers": headers})

    def delete_webhook(self, webhook_id: int) -> None:
        self._raw("DELETE", f"api/webhooks/{int(webhook_id)}/", f"removing webhook {webhook_id}")

    # -- Data Manager tabs ---------------------------------------------------------------------
    def find_view(self, project_id: int, title: str = defaults.QUEUE_VIEW_TITLE) -> int | None:
        with self._calls("listing Data Manager tabs", project_id):
            views = self._ls.views.list(project=project_id)
        for view in views:
            data = view.data if isinstance(view.data, dict) else {}
            if data.get("title") == title and view.id is not None:
                return int(view.id)
        return None

    def ensure_queue_view(self, project_id: int, title: str = defaults.QUEUE_VIEW_TITLE) -> int:
        """Return the id of the tab named ``title``, creating it once if missing.

        The tab shows unlabeled tasks ordered by prediction score, lowest first; annotators
        who use "Label Tasks As Displayed" there get the most informative task next.
        """
        found = self.find_view(project_id, title)
        if found is not None:
            return found
        data = {"title": title, "ordering": ["tasks:predictions_score"], "filters": unlabeled()}
        with self._calls("creating the Data Manager tab", project_id):
            made = self._ls.views.create(project=project_id, data=cast(Any, data))
        return int(cast(int, made.id))

    # -- personal access tokens ----------------------------------------------------------------
    def create_personal_access_token(self, *, replace_existing: bool = True) -> str:
        """A new personal access token for this token's user.

        Label Studio keeps one per user and answers 409 to a second create; with
        ``replace_existing`` the existing ones are revoked first.
        """
        try:
            return self._new_token()
        except LabelStudioError as exc:
            if exc.status != 409 or not replace_existing:
                raise LabelStudioError(f"{exc}; revoke the user's personal access token in Label Studio "
                                       "(Account & Settings) or reuse it", status=exc.status, retryable=False) from None
        for existing in self._raw("GET", "api/token/", "listing personal access tokens") or []:
            self._raw("POST", "api/token/blacklist/", "revoking a personal access token",
                      json={"refresh": existing["token"]})
        return self._new_token()

    def _new_token(self) -> str:
        answer = self._raw("POST", "api/token/", "creating a personal access token")
        return str(answer["token"])
