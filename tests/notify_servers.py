"""A local webhook server for the notification tests (``hooks`` fixture): it records
every POST and answers from a queue per path, so a test can make a channel fail."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Hooks:
    """What the local server received, and what it answers: per path, a queue of
    ``(status, headers, body)``; afterwards 200 ``ok`` (202 under ``/teams``)."""

    url: str
    received: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    answers: dict[str, list[tuple[int, dict[str, str], str]]] = field(default_factory=dict)

    def bodies(self, path: str) -> list[Any]:
        return [body for p, _, body in self.received if p == path]


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    state = Hooks(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with lock:
                state.received.append((self.path, dict(self.headers), json.loads(raw)))
                queue = state.answers.get(self.path) or []
                if queue:
                    status, headers, body = queue.pop(0)
                else:
                    status, headers, body = (
                        (202, {}, "") if "teams" in self.path else (200, {}, "ok")
                    )
            data = body.encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
