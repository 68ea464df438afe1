"""Debian's chromium driven by Playwright for the dashboard tests: never a downloaded browser.

Missing chromium or Playwright skips the browser tests on a developer machine and fails them
under CI (CI=true), where .ci/run installs chromium first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium_path() -> str:
    found = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"),
                              shutil.which("chromium-browser")) if p and os.path.exists(p)), None)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        message = ("no chromium (apt-get install -y chromium) or no playwright "
                   "(pip install -e '.[test]'): the dashboard browser test cannot run")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class Page:
    """A browser page with every console error, page error and dialog recorded."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.text_content() or "").strip()

    def wait_text(self, selector: str, expected: str, timeout: float = 15) -> None:
        self.page.wait_for_function(
            "([s, e]) => { const n = document.querySelector(s);"
            " return n && n.textContent.trim() === e; }",
            arg=[selector, expected], timeout=timeout * 1000)


@contextmanager
def browser(user_data: Path, token: str) -> Iterator[Page]:
    """A fresh profile sending the API token as basic-auth user; the browser ends with it."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(user_data), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            http_credentials={"username": token, "password": ""},
            viewport={"width": 1400, "height": 1000})
        try:
            yield Page(context.new_page())
        finally:
            context.close()
