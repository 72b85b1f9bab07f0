"""One browser for the scripts that drive a running portal over HTTP (``bench/pages.py``,
``bench/load.py``, ``bin/compose-scale-check``): its cookies, and a new connection for each
request, as sync gunicorn workers close them anyway. Standard library only."""

import http.client
import re
from urllib.parse import urlencode

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    def __init__(self, port: int = 0):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict | None = None, *, port: int | None = None
    ) -> tuple[int, str, bytes]:
        """``method`` ``path`` on 127.0.0.1 at ``port`` (default: the browser's), ``body`` sent
        as a form; returns the status, the ``Location`` header ("" without one) and the body."""
        port = port or self.port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{port}{path}"
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, response.getheader("Location") or "", content
        finally:
            conn.close()

    def csrf(self, path: str = "/complaints/new/") -> tuple[int, str | None]:
        """The status of the form at ``path`` and its CSRF token (None without one)."""
        status, _, content = self.request("GET", path)
        match = CSRF_FIELD.search(content)
        return status, match.group(1).decode() if status == 200 and match else None
