"""What the local fakes of outside services (``fake_telegram.py``, ``fake_sms.py``) share:
a threaded HTTP server on a free port of 127.0.0.1 that a test starts and stops, with a
lock for the state its handler threads change."""

import threading
from http.server import ThreadingHTTPServer


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
