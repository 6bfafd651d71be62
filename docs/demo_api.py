"""What the documentation scripts share: a running ``ls-active demo``'s login and Label Studio's API."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "img"


def demo_login(demo_dir: Path) -> dict[str, Any]:
    """The address, project and admin login that ``ls-active demo`` left in its folder."""
    state = json.loads((demo_dir / "demo.json").read_text())
    creds = json.loads((demo_dir / "label-studio" / "ls-active-credentials.json").read_text())
    return {"url": state["label_studio_url"], "project": state["project"], "token": creds["token"],
            "username": creds["username"], "password": creds["password"]}


def _api(url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method=method, headers={
        "Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"null")
