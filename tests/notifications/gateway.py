"""A local SMS gateway for the tests: a real ``http.server`` in a thread that records what it is
sent and answers with the status the test sets (500 while "down")."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Gateway:
    def __init__(self) -> None:
        self.status = 200
        self.received: list[dict] = []  # accepted messages (2xx answers)
        self.refused = 0  # requests answered with an error
        self.headers: list[dict] = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    payload = json.loads(raw)
                else:
                    payload = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                with gateway.lock:
                    gateway.headers.append(dict(self.headers))
                    status = gateway.status
                    if status < 300:
                        gateway.received.append(payload)
                    else:
                        gateway.refused += 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "down"}')

            def log_message(self, format, *args) -> None:  # noqa: A002 - quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Gateway":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
