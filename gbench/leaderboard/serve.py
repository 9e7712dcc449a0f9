"""Local viewing of a built site: the standard library's file server, on loopback only."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves files without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(folder: Path, port: int, announce: Callable[[str], None]) -> None:
    """Serve ``folder`` on 127.0.0.1 until interrupted (Ctrl-C); port 0 picks a free one."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        announce(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a viewer stops it
            server.serve_forever()
