"""Settings for the test suite: the real settings, plus a fast password hasher and a
throw-away data directory. DATABASE_URL still chooses SQLite or PostgreSQL."""

import os
import tempfile

os.environ.setdefault("ARENDA_TESTING", "1")
os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="arenda-test-"))

from arenda.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default"]}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: threads in the concurrency tests then meet the real
    # SQLite locking (WAL + IMMEDIATE + busy timeout) that production has.
    DATABASES["default"]["TEST"]["NAME"] = str(DATA_DIR / "test.sqlite3")  # noqa: F405

# Channels are off unless a test sets them up (against its fake): the machine's environment
# must not change what the tests send.
SMS_GATEWAY = ""
MAX_BOT_TOKEN = MAX_WEBHOOK_SECRET = MAX_BOT_USERNAME = ""
VK_TOKEN = VK_GROUP_ID = VK_SECRET_KEY = VK_CONFIRMATION_CODE = ""
WIALON_API_URL = WIALON_TOKEN = AEMP_API_URL = AEMP_TOKEN = AEMP_USERNAME = AEMP_PASSWORD = ""
AVITO_CLIENT_ID = AVITO_CLIENT_SECRET = AVITO_ACCOUNT_ID = AVITO_WEBHOOK_KEY = ""
