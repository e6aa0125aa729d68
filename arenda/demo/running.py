"""What a running ``make run`` copy tells its own commands (``bin/arenda-run``): the URLs of
its web server and of its fakes, one file each in ``DATA_DIR/run/``, so ``manage.py banner``
shows them again on demand and the demo's 1C bases point at this copy's fake 1C."""

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction

from arenda.directory.models import AccountingBase

WEB, FAKE_1C, FAKE_TELEGRAM = "web", "fake_1c", "fake_telegram"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def run_dir() -> Path:
    return Path(settings.DATA_DIR) / "run"


def url_file(name: str) -> Path:
    return run_dir() / f"{name}.url"


def running_url(name: str) -> str | None:
    """The URL ``name`` (WEB, FAKE_1C, FAKE_TELEGRAM) announced, or None when it is not running."""
    try:
        text = url_file(name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOCAL_HOSTS


@transaction.atomic
def point_bases_at(fake_url: str) -> int:
    """Point the 1C bases that use a fake on this machine at ``fake_url`` (scheme, host and
    port; the path — the base's name — stays). Bases of a real 1C are left alone. Returns
    how many changed."""
    target = urlsplit(fake_url)
    changed = 0
    for base in AccountingBase.objects.select_for_update().exclude(odata_url=""):
        old = urlsplit(base.odata_url)
        if not is_local(base.odata_url) or old.netloc == target.netloc:
            continue
        base.odata_url = urlunsplit((target.scheme, target.netloc, old.path, old.query, old.fragment))
        base.save(update_fields=["odata_url", "updated_at"])
        changed += 1
    return changed
