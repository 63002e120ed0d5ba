"""A real HTTP server on 127.0.0.1 for tests: scripted, chunked responses.

Each request pops the next scripted ``Reply`` for its path (the last one
repeats). Bodies go out with ``Transfer-Encoding: chunked``, one HTTP chunk
per item of ``chunks``, optionally paced, optionally cut off (connection
dropped) or stalled, so adapters are exercised over a real socket. ``chunks``
may be any iterable (a generator sends gigabytes without holding them), and
``headers`` may say ``Content-Encoding`` for a pre-compressed body
(``gzip_bomb`` builds one).
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response."""

    chunks: Iterable[bytes] = ()
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/event-stream"})
    pace: float = 0.0  # seconds between chunks
    drop_after: int | None = None  # close the socket after this many chunks, no terminator
    stall_after: int | None = None  # stop sending (keep the socket open) after this many chunks
    stall_seconds: float = 5.0  # ends early when the server stops


@dataclass
class Recorded:
    """A request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    port: int = 0  # the client's port: equal for two requests on one (kept-alive) connection

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (cancel, kill, keep-alive reset) is expected here.
        pass


class LoopbackServer:
    """Scripted replies per path; records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Recorded] = []
        self.heads: list[Recorded] = []  # HEAD requests (not in ``requests``)
        self.closed_early = 0  # responses whose client went away before the end
        self._stopping = threading.Event()  # ends stalls, so a long one costs no test time
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        """Set the replies for ``path``, served in order (the last repeats)."""
        self.routes[path] = list(replies)

    def _next(self, path: str) -> Reply:
        replies = self.routes.get(path.split("?")[0]) or [Reply(status=404, chunks=[b"{}"])]
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append(
                    Recorded(
                        self.command,
                        self.path,
                        dict(self.headers.items()),
                        body,
                        self.client_address[1],
                    )
                )
                server._serve(self, server._next(self.path))

            do_GET = do_POST  # noqa: N815

            def do_HEAD(self) -> None:  # noqa: N802
                # What a client sends to open a connection early (``warm_connection``):
                # answered and kept alive as real servers do, counted apart from requests.
                port = self.client_address[1]
                headers = dict(self.headers.items())
                server.heads.append(Recorded(self.command, self.path, headers, b"", port))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for i, chunk in enumerate(reply.chunks):
                if reply.drop_after is not None and i >= reply.drop_after:
                    handler.wfile.flush()
                    handler.close_connection = True
                    handler.connection.shutdown(2)
                    return
                if reply.stall_after is not None and i >= reply.stall_after:
                    self._stopping.wait(reply.stall_seconds)
                    return
                if chunk:
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    handler.wfile.flush()
                if reply.pace:
                    time.sleep(reply.pace)
            handler.wfile.write(b"0\r\n\r\n")
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.closed_early += 1

    def start(self) -> LoopbackServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (and end any stall)."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def loopback() -> Iterator[LoopbackServer]:
    """A started server, stopped afterwards."""
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


def gzip_bomb(head: bytes, filler: bytes, megabytes: int) -> Iterator[bytes]:
    """A gzip body: ``head``, then ``megabytes`` MiB of ``filler`` (one byte), built in O(1).

    After a full flush deflate starts afresh, so every further MiB of filler
    compresses to the same bytes: a 2 GiB body costs ~2 MB on the wire and no
    time to build. The gzip trailer is not valid (its CRC is for the first
    MiB only): a reader that is not stopped by its limits fails there.
    """
    assert len(filler) == 1
    block = filler * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield deflate.compress(head + block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    for _ in range(megabytes - 2):
        yield again
    yield deflate.compress(block) + deflate.flush()


def split_every(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into pieces of ``size`` bytes (the last may be shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]
