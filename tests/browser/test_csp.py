"""Every page under the Content-Security-Policy, in a real browser.

Headless Chromium walks the demo company as the administrator — every page a link leads to,
one of each kind (``/bookings/12/`` and ``/bookings/40/`` are one kind), the admin included —
plus the pages without a login (sign-in, the customer's КП link). The policy runs in
report-only mode, so nothing is blocked and every page is seen whole, and the browser reports
each violation; there must be none. The same walk refuses a page that answers 500.

Needs the ``playwright`` package and Debian's ``chromium``; skips without them.
"""

import re
import shutil
from collections import deque
from io import StringIO
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection

from arenda.crm.models import Deal

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (apt-get install chromium)")

PASSWORD = "demo12345"
MAX_PAGES = 600
# Links that leave the page for a file or end the session.
SKIP = re.compile(
    r"(logout|\.pdf$|\.xlsx$|\.ics$|\.csv$|\.json$|/export|/download|/files?/|/api/schema|/api/v1/|"
    r"/i18n/|/admin/.*/delete/|/admin/logout|format=)",
)
# Pages that load parts of themselves after "load" (htmx): wait for those too. The bell
# (front/_notifications.html) is the same on every page: it is waited for on the first.
LAZY = "!!document.querySelector('[hx-trigger*=load]:not(#notif), [hx-trigger*=revealed]')"
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


def shape(url: str) -> str:
    """One page of each kind: ids become «N», query values are dropped, keys kept."""
    parts = urlsplit(url)
    if parts.path.startswith("/admin/"):  # the admin's filters and orderings: one page each list
        return re.sub(r"\d+", "N", parts.path)
    keys = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair and "page=" not in pair})
    return re.sub(r"\d+", "N", parts.path) + ("?" + "&".join(keys) if keys else "")


def walk(page, base: str, starts: list[str]) -> tuple[dict, list, int]:
    """Breadth-first over same-site links; returns the violations by page, the pages that
    failed, and how many pages were seen."""
    seen, queue = set(), deque()
    for start in starts:
        seen.add(shape(start))
        queue.append(start)
    violations, failures, visited = {}, [], 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        try:
            response = page.goto(base + url, wait_until="load")
        except sync_api.Error as exc:
            if "Download is starting" in str(exc):
                continue
            raise
        visited += 1
        if visited == 1 or page.evaluate(LAZY):
            page.wait_for_load_state("networkidle")
        if response is None or response.status >= 500:
            failures.append(f"{url}: {response.status if response else 'no response'}")
            continue
        found = page.evaluate("window.__violations || []")
        if found:
            violations[url] = found
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urljoin(base + url, href)
            parts = urlsplit(target)
            if not target.startswith(base) or SKIP.search(parts.path + "?" + parts.query):
                continue
            local = parts.path + (f"?{parts.query}" if parts.query else "")
            if shape(local) not in seen:
                seen.add(shape(local))
                queue.append(local)
    assert not queue, f"the walk stopped at {MAX_PAGES} pages with {len(queue)} kinds unseen"
    return violations, failures, visited


@pytest.fixture
def demo_company(transactional_db, settings):
    if connection.vendor != "sqlite":
        # The pages' markup does not depend on the database: one walk (on SQLite) is enough,
        # and it keeps CI's second run of the suite short.
        pytest.skip("walked once, on SQLite")
    call_command("seed_demo", "--password", PASSWORD, stdout=StringIO())
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY = None
    deal = Deal.objects.exclude(proposal_token="").first() or Deal.objects.first()
    if not deal.proposal_token:
        deal.proposal_token = "browser-test-token-0123456789"
        deal.save(update_fields=["proposal_token"])
    return deal


def test_every_page_keeps_to_the_content_security_policy(demo_company, live_server):
    base = live_server.url
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            public = browser.new_context(locale="ru-RU")
            public.add_init_script(LISTEN)
            page = public.new_page()
            outside, outside_failures, _ = walk(
                page, base, ["/accounts/login/", f"/p/{demo_company.proposal_token}/"]
            )

            staff = browser.new_context(locale="ru-RU")
            staff.add_init_script(LISTEN)
            page = staff.new_page()
            page.goto(base + "/accounts/login/")
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_url(base + "/")
            inside, inside_failures, visited = walk(page, base, ["/", "/admin/", "/api/docs/"])
        finally:
            browser.close()

    print(f"the CSP walk saw {visited} pages inside, {len(outside)} violations outside")
    assert visited > 150, f"the walk saw only {visited} pages"
    assert not outside_failures + inside_failures
    assert not outside, outside
    assert not inside, inside
