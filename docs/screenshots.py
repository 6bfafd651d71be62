"""Screenshots of Label Studio's own UI for the admin guide, from a running ``ls-active demo``.

    ls-active demo --dir demo-data            # in another terminal, until "ready"
    pip install playwright                    # the Python package only: it drives an installed Chromium
    python docs/screenshots.py --demo-dir demo-data --chromium /usr/bin/chromium

Logs in through Label Studio's login page with the demo's admin account, then saves
``docs/img/model-settings.png`` (Settings → Model with the connected backend),
``docs/img/queue-tab.png`` (the "Active learning queue" tab, lowest prediction score first)
and ``docs/img/labeling.png`` (the labeling screen of the first task of that tab).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))

from demo_api import OUT, _api, demo_login

#: Enough width for the Data Manager's columns; the PNGs stay well under 300 KB.
VIEWPORT = {"width": 1280, "height": 760}
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


#: The queue tab's columns in the pictures: what an admin keeps with the tab's Columns menu.
SHOWN_COLUMNS = {"tasks:id", "tasks:data.text", "tasks:predictions_score"}


def show_queue_columns(url: str, token: str, project: int) -> int:
    """Keep only ID, prediction score and text in the queue tab's table; return the tab's id."""
    columns = _api(url, token, "GET", f"/api/dm/columns?project={project}")["columns"]
    ids = [f"tasks:{c['parent']}.{c['id']}" if c.get("parent") else f"tasks:{c['id']}" for c in columns]
    hidden = [c for c in ids if c not in SHOWN_COLUMNS]
    for view in _api(url, token, "GET", f"/api/dm/views/?project={project}"):
        if view["data"].get("title") == "Active learning queue":
            data = {**view["data"], "hiddenColumns": {"explore": hidden, "labeling": hidden}}
            _api(url, token, "PATCH", f"/api/dm/views/{view['id']}/", {"project": project, "data": data})
            return int(view["id"])
    raise SystemExit("the project has no 'Active learning queue' tab yet; wait for the demo's 'ready' line")


def log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(lambda u: "/user/login" not in u, timeout=60_000)


def shoot(page: Page, name: str) -> Path:
    page.wait_for_timeout(1500)  # let fonts and lazy panels settle
    path = OUT / name
    page.screenshot(path=str(path))
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")
    return path


def model_settings(page: Page, url: str, project: int) -> None:
    """The connected backend's card, then its menu with Start Training."""
    page.goto(f"{url}/projects/{project}/settings/ml")
    page.get_by_text("Connected").first.wait_for(timeout=60_000)
    shoot(page, "model-settings.png")
    page.get_by_text("Connected").first.locator("xpath=ancestor::div[.//button][1]").locator("button").first.click()
    page.get_by_text("Start Training").first.wait_for(timeout=30_000)
    shoot(page, "start-training.png")


def queue_tab(page: Page, url: str, project: int, view: int) -> None:
    page.goto(f"{url}/projects/{project}/data?tab={view}")
    page.get_by_text("Prediction score").first.wait_for(timeout=60_000)
    page.locator("[class*=row-wrapper]").first.wait_for(timeout=60_000)
    shoot(page, "queue-tab.png")


def labeling(page: Page, url: str, token: str, project: int, view: int) -> None:
    """Open the first task of the queue tab, as "Label Tasks As Displayed" would serve it."""
    first = _api(url, token, "GET", f"/api/tasks?view={view}&page=1&page_size=1&fields=task_only&include=id")
    page.goto(f"{url}/projects/{project}/data?tab={view}&task={first['tasks'][0]['id']}")
    page.get_by_text("Submit").first.wait_for(timeout=60_000)
    shoot(page, "labeling.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo-dir", type=Path, default=Path("demo-data"), help="the folder of ls-active demo")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable to drive")
    args = parser.parse_args(argv)
    login = demo_login(args.demo_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]})
        url, token, project = login["url"], login["token"], login["project"]
        view = show_queue_columns(url, token, project)
        try:
            log_in(page, url, login["username"], login["password"])
            model_settings(page, url, project)
            queue_tab(page, url, project, view)
            labeling(page, url, token, project, view)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
