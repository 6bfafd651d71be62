"""One Label Studio server seen through one API key, over label-studio-sdk 2.x.

Every failure becomes a :class:`~backend.errors.LabelStudioError` that says whether retrying
can help (Label Studio unreachable, 5xx, time-outs: yes; 401, 403, 404, a refused request:
no) and what the user should change; the API key never appears in any message or repr.
Calls the SDK lacks go through the SDK's own HTTP client, so authentication, token refresh
and retries stay in one place.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from backend import defaults
from backend.errors import LabelStudioError

UNAUTHORIZED_HINT = (
    "Label Studio rejected the token (401). If it is a legacy token, start Label Studio with "
    "--enable-legacy-api-token (or enable legacy tokens in Organization settings); or set "
    "LABEL_STUDIO_API_KEY to a personal access token."
)
_AUTH_VALUE = re.compile(r"\b(Token|Bearer)\s+[\w.\-]{20,}")


def is_personal_access_token(key: str) -> bool:
    """Personal access tokens are JWTs (three dot-separated parts); legacy tokens are hex."""
    return key.count(".") == 2 and key.startswith("ey")


class Connection:
    """The SDK client, its HTTP client, and the translation of failures into our errors.

    A personal access token is exchanged for short-lived access tokens by the SDK as needed;
    any other key is sent as a legacy ``Token``.
    """

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = defaults.LS_TIMEOUT,
        connect_timeout: float = defaults.LS_CONNECT_TIMEOUT,
        max_retries: int = 1,
    ) -> None:
        if not url:
            raise LabelStudioError("No Label Studio URL given; set LABEL_STUDIO_URL", retryable=False)
        if not api_key:
            raise LabelStudioError("No Label Studio API key given; set LABEL_STUDIO_API_KEY", retryable=False)
        self.url = url.rstrip("/")
        self._secret = api_key
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=connect_timeout), follow_redirects=True)
        with self._calls("connecting"):
            self._ls = LabelStudio(base_url=self.url, api_key=api_key, httpx_client=self._http,
                                   max_retries=max_retries)

    @property
    def personal_access_token(self) -> bool:
        return is_personal_access_token(self._secret)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _mask(self, text: str) -> str:
        """Remove the key, and anything that looks like an Authorization value, from ``text``."""
        for secret in (self._secret, self._access_token()):
            if secret:
                text = text.replace(secret, "***")
        return _AUTH_VALUE.sub(r"\1 ***", text)

    def _access_token(self) -> str:
        wrapper = getattr(getattr(self, "_ls", None), "_client_wrapper", None)
        tokens = getattr(wrapper, "_tokens_client", None)
        return str(getattr(tokens, "_access_token", "") or "")

    @contextlib.contextmanager
    def _calls(self, what: str, project_id: int | None = None) -> Iterator[None]:
        """Turn SDK and transport failures inside the block into :class:`LabelStudioError`."""
        try:
            yield
        except ApiError as exc:
            raise self._from_status(exc.status_code, exc.body, what, project_id) from None
        except httpx.TimeoutException as exc:
            raise LabelStudioError(f"Label Studio at {self.url} is unreachable: {what} timed out "
                                   f"({type(exc).__name__}); check that it runs and is not overloaded",
                                   retryable=True) from None
        except httpx.TransportError as exc:
            raise LabelStudioError(self._mask(f"Label Studio at {self.url} is unreachable while {what}: "
                                              f"{type(exc).__name__}: {exc}; check LABEL_STUDIO_URL and that "
                                              "Label Studio runs"), retryable=True) from None
        except ValueError:  # a body that is not JSON: a proxy's error page, or not Label Studio
            raise LabelStudioError(f"Label Studio at {self.url} sent an answer that is not JSON while {what}; "
                                   "check that LABEL_STUDIO_URL is Label Studio's address", retryable=True) from None

    def _from_status(self, status: int | None, body: Any, what: str, project_id: int | None) -> LabelStudioError:
        detail = body
        if isinstance(body, dict):
            detail = body.get("validation_errors") or body.get("detail") or body
        detail_text = self._mask(str(detail))[:500]
        if status == 401:
            return LabelStudioError(f"{UNAUTHORIZED_HINT} (Label Studio at {self.url}, {what})",
                                    status=401, retryable=False)
        if status == 404 and project_id is not None:
            return LabelStudioError(f"Label Studio at {self.url} has no project {project_id} visible to this "
                                    f"token (404 while {what}); check the project id", status=404, retryable=False)
        if status is None or status >= 500 or status in (408, 429):
            return LabelStudioError(f"Label Studio at {self.url} is unreachable or failing: {what} answered "
                                    f"{status}: {detail_text}", status=status, retryable=True)
        if status == 403:
            detail_text += "; the token's user lacks permission for this project"
        return LabelStudioError(f"Label Studio at {self.url} refused {what} ({status}): {detail_text}",
                                status=status, retryable=False)

    def _raw(self, method: str, path: str, what: str, project_id: int | None = None, **kwargs: Any) -> Any:
        """One call the SDK lacks, through the SDK's HTTP client (auth, refresh, retries)."""
        with self._calls(what, project_id):
            answer = self._ls._client_wrapper.httpx_client.request(path, method=method, **kwargs)
            if answer.status_code < 400:
                return answer.json() if answer.content else None
        try:
            body: Any = answer.json()
        except ValueError:
            body = answer.text
        raise self._from_status(answer.status_code, body, what, project_id)
