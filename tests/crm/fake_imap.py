"""A tiny IMAP server on 127.0.0.1 for the mail-reader tests: just enough of RFC 3501
(CAPABILITY, LOGIN, SELECT, SEARCH UNSEEN, FETCH BODY.PEEK[]/RFC822, STORE +FLAGS, NOOP,
LOGOUT) for ``imaplib`` to read one mailbox of recorded messages."""

import re
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def send(self, data: bytes | str) -> None:
        self.wfile.write(data.encode() if isinstance(data, str) else data)

    def handle(self):
        box = self.server.mailbox
        self.send("* OK fake IMAP ready\r\n")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            box.commands.append(f"{command.upper()} {args}".strip())
            answer = getattr(self, "do_" + command.lower(), None)
            if answer is None:
                self.send(f"{tag} BAD unknown command\r\n")
                continue
            if answer(tag, args) == "bye":
                return

    def do_capability(self, tag, args):
        self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed\r\n")

    def do_noop(self, tag, args):
        self.send(f"{tag} OK NOOP completed\r\n")

    def do_login(self, tag, args):
        user, _, password = args.partition(" ")
        if password.startswith('"'):
            password = re.sub(r"\\(.)", r"\1", password[1:-1])
        box = self.server.mailbox
        if (user, password) != (box.user, box.password):
            self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials\r\n")
            return
        self.send(f"{tag} OK LOGIN completed\r\n")

    def do_select(self, tag, args):
        box = self.server.mailbox
        if args.strip('"') != box.folder:
            self.send(f"{tag} NO no such mailbox\r\n")
            return
        self.send(
            f"* {len(box.messages)} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n"
            f"* OK [UIDVALIDITY 1] UIDs valid\r\n{tag} OK [READ-WRITE] SELECT completed\r\n"
        )

    def do_search(self, tag, args):
        numbers = [str(n) for n, m in enumerate(self.server.mailbox.messages, 1) if not m["seen"]]
        self.send(
            f"* SEARCH {' '.join(numbers)}\r\n".replace(" \r\n", "\r\n") + f"{tag} OK SEARCH completed\r\n"
        )

    def do_fetch(self, tag, args):
        number, _, what = args.partition(" ")
        message = self.server.mailbox.messages[int(number) - 1]
        item = "RFC822" if "RFC822" in what.upper() else "BODY[]"
        if item == "RFC822":  # a plain fetch marks the message seen, as real servers do
            message["seen"] = True
        raw = message["raw"]
        self.send(f"* {number} FETCH ({item} {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
        self.send(f"{tag} OK FETCH completed\r\n")

    def do_store(self, tag, args):
        number, _, flags = args.partition(" ")
        if "\\SEEN" in flags.upper():
            self.server.mailbox.messages[int(number) - 1]["seen"] = flags.startswith("+")
        self.send(f"* {number} FETCH (FLAGS (\\Seen))\r\n{tag} OK STORE completed\r\n")

    def do_logout(self, tag, args):
        self.send(f"* BYE logging out\r\n{tag} OK LOGOUT completed\r\n")
        return "bye"


class FakeImap:
    """``with FakeImap([raw, …]) as server:`` → an IMAP server on ``server.port``."""

    def __init__(
        self, messages: list[bytes], user="zayavki@arenda-kran.ru", password='p"ss word', folder="INBOX"
    ):
        self.messages = [{"raw": raw, "seen": False} for raw in messages]
        self.user, self.password, self.folder = user, password, folder
        self.commands: list[str] = []
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.mailbox = self
        self.port = self._server.server_address[1]

    def add(self, raw: bytes) -> None:
        self.messages.append({"raw": raw, "seen": False})

    def mark_all_unseen(self) -> None:
        for message in self.messages:
            message["seen"] = False

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
