"""A real HTTP endpoint on 127.0.0.1 for outbox tests: records every request and answers as scripted."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased (HTTP header names are case-insensitive)
    body: bytes
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that was killed mid-request (the worker-kill drill) leaves a broken pipe; expected.
        pass


class Receiver:
    """`answers`: (status, headers) per request in arrival order, then `default` for the rest.
    `stall_first`: seconds to sleep before answering the first request (`first_arrived` is set on
    its arrival). `delay`: seconds to sleep before answering every request."""

    def __init__(self, answers=(), *, default=(200, {}), stall_first: float = 0.0, delay: float = 0.0):
        self.answers = [a if isinstance(a, tuple) else (a, {}) for a in answers]
        self.default = default if isinstance(default, tuple) else (default, {})
        self.stall_first = stall_first
        self.delay = delay
        self.requests: list[Received] = []
        self.first_arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    index = len(receiver.requests)
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.requests.append(Received(self.path, headers, body, time.time()))
                status, answer_headers = receiver.answers[index] if index < len(receiver.answers) else receiver.default
                if index == 0:
                    receiver.first_arrived.set()
                    time.sleep(receiver.stall_first)
                time.sleep(receiver.delay)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def keys(self) -> list[str]:
        return [r.headers.get("idempotency-key") for r in self.requests]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
