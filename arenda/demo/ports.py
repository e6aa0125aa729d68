"""Ports for ``make run`` on a shared machine (``bin/arenda-run``): the web server keeps its
port (``PORT``, default 8000) or, when another program holds it, the next free one.

Runs without Django: ``python -m arenda.demo.ports HOST PORT`` prints the port to use."""

import socket
import sys


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def next_free_port(host: str, start: int, tries: int = 100) -> int:
    """``start`` when it is free, else the first free port after it; ValueError after ``tries``."""
    for port in range(start, min(start + tries, 65536)):
        if port_is_free(host, port):
            return port
    raise ValueError(f"no free port on {host} from {start} to {start + tries - 1}")


def main(argv: list[str]) -> int:
    host, start = argv[0], int(argv[1])
    try:
        print(next_free_port(host, start))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
