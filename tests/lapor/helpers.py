import os
import socket
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment of a fresh shell: no test markers, no service URLs, plus ``overrides``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PYTEST_VERSION",
            "PYTEST_CURRENT_TEST",
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "CACHE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Where browser tests keep screenshots for a person to look at (CI sets it, see .ci/run).
SCREENSHOTS = Path(os.environ.get("LAPOR_SCREENSHOT_DIR") or BASE_DIR / "var" / "screenshots")
