"""What the local fakes of outside services (``fake_telegram.py``, ``fake_sms.py``) share:
a threaded HTTP server on a free port of 127.0.0.1 that a test starts and stops, with a
lock for the state its handler threads change."""

import os
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    handler_class = None  # the subclass's request handler

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        super().__init__((host, port), self.handler_class)
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def port_from_env(name: str) -> int:
    """The port a fake's command binds by default: ``name`` from the environment
    (``FAKE_1C_PORT``, ``FAKE_TELEGRAM_PORT``) or 0, a free one the system picks, so two
    copies of ``make run`` on one machine never share a fake (``bin/arenda-run``)."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else 0


def announce(url: str, path: str | None) -> None:
    """Write the fake's URL (with the port it really got) into ``path`` for
    ``bin/arenda-run`` and ``manage.py banner`` to read; whole or not at all."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(url + "\n", encoding="utf-8")
    partial.replace(target)
