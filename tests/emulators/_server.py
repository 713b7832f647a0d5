"""The loopback HTTP server the emulators share: JSON (or a form) in, JSON (or raw
bytes, for file downloads) out, one route method."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

# status, JSON body (or bytes sent as they are), extra headers
Reply = tuple[int, Any, dict[str, str]]


class JsonServer:
    """Serves ``route(method, path, query, body, headers)`` on 127.0.0.1:<free port>;
    use it as a context manager."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str, query: str, body: Any, headers: Any) -> Reply:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw_body = self.rfile.read(length) if length else b""
                body: Any = None
                if raw_body and "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    body = {k: v[0] for k, v in parse_qs(raw_body.decode()).items()}
                elif raw_body:
                    body = json.loads(raw_body)
                status, doc, extra = emulator.route(method, url.path, url.query, body, self.headers)
                is_bytes = isinstance(doc, bytes)
                raw = doc if is_bytes else json.dumps(doc).encode()
                self.send_response(status)
                if "Content-Type" not in extra:
                    kind = "application/octet-stream" if is_bytes else "application/json"
                    self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(raw)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler
