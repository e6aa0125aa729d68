"""What the local fakes of outside services (``fake_telegram.py``, ``fake_max.py``,
``fake_vk.py``, ``fake_avito.py``, ``fake_sms.py``, the fake 1C) share: a threaded HTTP
server on a free port of 127.0.0.1 that a test starts and stops, with a lock for the state
its handler threads change; the JSON request handler; the management command that runs one."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.core.management.base import BaseCommand


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


class JsonHandler(BaseHTTPRequestHandler):
    """What the fakes' request handlers share: a quiet log, GET/POST/PUT/DELETE to one
    ``_route(verb)``, and answers in JSON (or text) that survive a client which gave up
    waiting (the "timeout" failures)."""

    def log_message(self, format, *args):  # the test output stays quiet
        pass

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    def do_DELETE(self):
        self._route("DELETE")

    def _route(self, verb: str) -> None:
        raise NotImplementedError

    def _answer(self, status: int, body, delay: float = 0) -> None:
        if delay:
            time.sleep(delay)
        text = isinstance(body, str)
        data = (body if text else json.dumps(body, ensure_ascii=False)).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if text else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting ("timeout" mode)


class FakeCommand(BaseCommand):
    """``manage.py fake_<name>``: run one fake until Ctrl-C, on ``--port`` (default: the
    ``port_env`` variable, else a free port), writing its URL to ``--port-file``."""

    port_env = ""

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help=f"Default: {self.port_env}, else a free port (0)."
        )
        parser.add_argument("--port-file", help="Write the URL with the port it got into this file.")

    def make_fake(self, host: str, port: int, **options) -> FakeServer:
        raise NotImplementedError

    def describe(self, fake: FakeServer, **options) -> str:
        raise NotImplementedError

    def handle(self, *args, host, port, port_file, **options):
        fake = self.make_fake(host, port_from_env(self.port_env) if port is None else port, **options)
        self.stdout.write(self.describe(fake, **options))
        self.stdout.flush()
        announce(fake.url, port_file)
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.server_close()
