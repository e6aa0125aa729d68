"""The banner ``make run`` prints last and ``manage.py banner`` prints again: where this copy
runs, its fakes, the demo logins with their roles — in the UI's language."""

from django.utils.translation import gettext as _

from arenda.demo.running import FAKE_1C, FAKE_TELEGRAM, WEB, running_url
from arenda.demo.seed import demo_users

RULE = "=" * 80


def logins_table() -> list[str]:
    """The demo users as aligned rows: login, role, full name (empty without the demo)."""
    users = demo_users()
    if not users:
        return []
    rows = [(u.username, str(u.get_role_display()), u.full_name) for u in users]
    head = (_("login"), _("role"), _("full name"))
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return [line.format(*row).rstrip() for row in [head, *rows]]


def banner_lines(default_password: str = "demo12345") -> list[str]:
    web = running_url(WEB)
    lines = ["", RULE]
    if web:
        base = web.rstrip("/")
        lines += [
            "  " + _("Arenda is running: %(url)s") % {"url": f"{base}/"},
            "  " + _("API documentation: %(url)s") % {"url": f"{base}/api/docs/"},
        ]
    else:
        lines.append("  " + _("Arenda is not running here; start it with «make run»."))
    telegram = running_url(FAKE_TELEGRAM)
    if telegram:
        lines.append(
            "  " + _("Fake Telegram: %(url)s (messages the bot sent)") % {"url": f"{telegram}/_sent"}
        )
    for name, label in (
        ("fake_max", _("Fake MAX")),
        ("fake_vk", _("Fake VK")),
        ("fake_avito", _("Fake Avito")),
        ("fake_sms", _("Fake SMS gateway")),
        ("fake_wialon", _("Fake Wialon")),
        ("fake_aemp", _("Fake ISO 15143-3 fleet API")),
    ):
        if url := running_url(name):
            lines.append(
                "  " + _("%(fake)s: %(url)s (what was sent)") % {"fake": label, "url": f"{url}/_sent"}
            )
    onec = running_url(FAKE_1C)
    if onec:
        lines.append("  " + _("Fake 1C: %(url)s (what the 1C bases hold)") % {"url": f"{onec}/_dump"})
    table = logins_table()
    if table:
        lines += ["", "  " + _("Demo logins:")]
        lines += ["    " + row for row in table]
        lines.append(
            "  "
            + _("Password: %(password)s (unless another one was given to seed_demo).")
            % {"password": default_password}
        )
    if web:
        lines += ["", "  " + _("Ctrl-C stops the web server, the task worker and the scheduler.")]
    lines += [RULE, ""]
    return lines
