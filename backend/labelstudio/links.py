"""Links into Label Studio's own pages, for reports and messages."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def task_link(ls_url: str, project: int | str, task_id: int | str) -> str | None:
    """The task in Label Studio's Data Manager, or None when ``ls_url`` is not http(s)."""
    base = ls_url.strip().rstrip("/")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{base}/projects/{quote(str(project), safe='')}/data?task={quote(str(task_id), safe='')}"
