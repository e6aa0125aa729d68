"""deploy/nginx/arenda.conf served for real: nginx on loopback ports with a self-signed
certificate, in front of a small upstream that echoes the headers it receives. What the
app relies on (docs/operations.md, «Install»): HTTP redirected to HTTPS, X-Forwarded-For
appended (TRUSTED_PROXIES=1 reads its last hop), X-Forwarded-Proto https whatever the
client sent, static files with a year's caching, uploads a little over the app's 10 MB and
no more, and nothing of DATA_DIR. Skips without nginx or openssl."""

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or (Path("/usr/sbin/nginx") if Path("/usr/sbin/nginx").exists() else None)

pytestmark = pytest.mark.skipif(not NGINX or not shutil.which("openssl"), reason="needs nginx and openssl")


class Echo(BaseHTTPRequestHandler):
    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"path": self.path, "headers": dict(self.headers), "length": length}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nginx")
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    http_port, https_port = _free_port(), _free_port()
    (tmp / "static" / "front").mkdir(parents=True)
    (tmp / "static" / "front" / "app.0123abcd.css").write_text("body{}")
    (tmp / "acme").mkdir()
    (tmp / "data").mkdir()  # DATA_DIR beside STATIC_ROOT: never reachable
    (tmp / "data" / "arenda.sqlite3").write_text("SECRET-ROWS")
    (tmp / "logs").mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=arenda.example.ru",
         "-keyout", str(tmp / "privkey.pem"), "-out", str(tmp / "fullchain.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    conf = (ROOT / "deploy" / "nginx" / "arenda.conf").read_text()
    for old, new in {
        "/etc/nginx/arenda-proxy.conf": str(ROOT / "deploy" / "nginx" / "arenda-proxy.conf"),
        "/etc/letsencrypt/live/arenda.example.ru/": f"{tmp}/",
        "/srv/arenda/static/": f"{tmp}/static/",
        "/var/www/letsencrypt": f"{tmp}/acme",
        "/var/log/nginx/": f"{tmp}/logs/",
        "127.0.0.1:8000": f"127.0.0.1:{upstream.server_port}",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
    }.items():
        assert old in conf, old
        conf = conf.replace(old, new)
    (tmp / "arenda.conf").write_text(conf)
    (tmp / "nginx.conf").write_text(
        f"daemon off;\nmaster_process off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/logs/error.log;\n"
        f"events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n"
        f"  scgi_temp_path {tmp}/scgi;\n  include {tmp}/arenda.conf;\n}}\n"
    )
    server = subprocess.Popen(
        [str(NGINX), "-p", str(tmp), "-c", str(tmp / "nginx.conf")], stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https_port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("nginx did not start: " + server.stderr.read().decode())
    yield {"http": http_port, "https": https_port}
    server.terminate()
    server.wait(timeout=10)
    upstream.shutdown()


def _https(site, method, path, headers=None, body=None):
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    conn = HTTPSConnection("127.0.0.1", site["https"], context=context, timeout=10)
    conn.request(method, path, body=body, headers={"Host": "arenda.example.ru", **(headers or {})})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def test_plain_http_is_redirected_to_https(site):
    conn = HTTPConnection("127.0.0.1", site["http"], timeout=10)
    conn.request("GET", "/bookings/?page=2", headers={"Host": "arenda.example.ru"})
    response = conn.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == "https://arenda.example.ru/bookings/?page=2"


def test_the_app_gets_the_client_appended_and_the_scheme(site):
    response, data = _https(
        site, "GET", "/dashboard/", {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
    )  # fmt: skip
    assert response.status == 200
    headers = {key.lower(): value for key, value in json.loads(data)["headers"].items()}
    # what the client wrote stays on the left; the last hop is the address nginx saw
    assert headers["x-forwarded-for"] == "6.6.6.6, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "https"
    assert headers["host"] == "arenda.example.ru"
    assert not headers.get("x-forwarded-host")


def test_static_files_are_served_with_a_years_caching(site):
    response, data = _https(site, "GET", "/static/front/app.0123abcd.css")
    assert response.status == 200 and data == b"body{}"
    assert "immutable" in response.getheader("Cache-Control")
    assert "max-age=31536000" in response.getheader("Cache-Control")


def test_nothing_beside_static_root_is_served(site):
    for path in (
        "/static/../data/arenda.sqlite3",
        "/static/..%2fdata/arenda.sqlite3",
        "/static/%2e%2e/data/arenda.sqlite3",
    ):
        response, data = _https(site, "GET", path)
        assert b"SECRET-ROWS" not in data, path


def test_uploads_up_to_the_apps_limit_pass_and_larger_ones_stop_at_nginx(site):
    ten_mb_form = b"x" * (10 * 1024 * 1024 + 64 * 1024)  # a 10 MB scan and the rest of its form
    response, data = _https(
        site, "POST", "/bookings/1/waybill/", {"Content-Type": "application/octet-stream"}, ten_mb_form
    )
    assert response.status == 200 and json.loads(data)["length"] == len(ten_mb_form)
    response, _ = _https(
        site,
        "POST",
        "/bookings/1/waybill/",
        {"Content-Type": "application/octet-stream"},
        b"x" * (13 * 1024 * 1024),
    )
    assert response.status == 413


def test_metrics_pass_for_this_host(site):
    for path in ("/metrics", "/metrics/"):
        response, data = _https(site, "GET", path)
        assert response.status == 200 and json.loads(data)["path"] == path
