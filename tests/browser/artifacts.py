"""What a failed browser test leaves behind (docs/browser-tests.md): a full-page PNG and the
HTML of every page still open, in ``$BROWSER_ARTIFACTS/<test name>/`` (by default
``/tmp/arenda-browser-artifacts/<test name>/``), and the paths printed in the test's output."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

DEFAULT_ROOT = "/tmp/arenda-browser-artifacts"


def artifacts_dir(test_name: str) -> Path:
    root = os.environ.get("BROWSER_ARTIFACTS") or DEFAULT_ROOT
    return Path(root) / re.sub(r"[^\w.-]+", "_", test_name)


def save_pages(browser, directory: Path, label: str) -> list[Path]:
    """A screenshot and the HTML of every open page of every context; never raises (the
    test's own error is the one to see)."""
    directory.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^\w.-]+", "_", label).strip("_") or "failure"
    saved = []
    for c, context in enumerate(browser.contexts):
        for p, page in enumerate(context.pages):
            stem = directory / f"{slug}-context{c}-page{p}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True, timeout=10000)
                saved.append(Path(f"{stem}.png"))
            except Exception as exc:  # a closed or crashed page: keep going
                print(f"browser artifacts: no screenshot of {page.url}: {exc}")
            try:
                Path(f"{stem}.html").write_text(f"<!-- {page.url} -->\n" + page.content(), encoding="utf-8")
                saved.append(Path(f"{stem}.html"))
            except Exception as exc:
                print(f"browser artifacts: no HTML of {page.url}: {exc}")
    return saved


class Steps:
    """``with steps("the КП accepted"):`` — on any exception inside, every open page is
    saved (named after the step) before the exception goes on."""

    def __init__(self, browser, test_name: str):
        self.browser = browser
        self.directory = artifacts_dir(test_name)
        self.number = 0

    @contextmanager
    def __call__(self, name: str):
        self.number += 1
        try:
            yield
        except BaseException:
            saved = save_pages(self.browser, self.directory, f"{self.number:02d}-{name}")
            print(f"\nbrowser artifacts of the failed step «{name}» ({len(saved)} files): {self.directory}")
            for path in saved:
                print(f"  {path}")
            raise
