"""Start the portal exactly as the README's first command does, on the embedded default."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from .helpers import BASE_DIR, clean_env, free_port

pytestmark = pytest.mark.slow


def test_make_run_serves_healthz_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = clean_env(LAPOR_VAR_DIR=str(tmp_path / "var"), PORT=str(port))
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    status, body = None, ""
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                    status, body = resp.status, resp.read().decode()
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            home = resp.read().decode()
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = process.communicate(timeout=60)
    assert status == 200, output
    assert '"broker": {"ok": true' in body
    assert '<html lang="id">' in home
    assert f"http://127.0.0.1:{port}/" in output
    assert "petugas.banjarbaru" in output  # the demo accounts are printed
    assert (tmp_path / "var" / "lapor.sqlite3").exists()
    assert "Lapor stopped." in output
    leftovers = subprocess.run(
        ["pgrep", "-f", f"worker-{port}@"], capture_output=True, text=True
    ).stdout.strip()
    assert leftovers == ""
