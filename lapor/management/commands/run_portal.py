"""Run the whole portal in one terminal: web server, Celery worker and Celery beat.

Prepares the database first (migrate, reference data, demo data with DEBUG on). Ctrl-C, or
SIGTERM, stops all three.
"""

import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.demo import demo_accounts_visible


def site_url_for(host: str, port: int) -> str:
    """The address a browser on this machine reaches ``host:port`` by."""
    if host in ("0.0.0.0", "", "::", "[::]"):  # noqa: S104 - every interface: name this one
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Migrate, load reference and demo data, then run web server, worker and beat together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--skip-setup", action="store_true", help="Do not migrate or seed.")

    def handle(self, *args, host, port, skip_setup, **options):
        if "LAPOR_SITE_URL" not in os.environ:
            # The demo data below queues emails with links too.
            settings.LAPOR_SITE_URL = site_url_for(host, port)
        if not skip_setup:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("load_reference", verbosity=0)
            if settings.DEBUG:
                call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
            else:
                call_command("collectstatic", interactive=False, verbosity=0)

        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", "--noreload", f"{host}:{port}"]
            if settings.DEBUG
            else [
                python,
                "-m",
                "gunicorn",
                "lapor.wsgi",
                "-c",
                "lapor/gunicorn.conf.py",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "lapor",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                "2",
                "--hostname",
                f"worker-{port}@%h",
            ],
            "beat": [python, "-m", "celery", "-A", "lapor", "beat", "--loglevel", "INFO"],
        }
        processes: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        # Emailed links point at the address actually served, unless LAPOR_SITE_URL says
        # otherwise (a public name in front of a proxy).
        environment = {**os.environ}
        environment.setdefault("LAPOR_SITE_URL", settings.LAPOR_SITE_URL)
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment)

        # The banner comes last, under the worker's and beat's own start-up output, so the demo
        # accounts do not scroll away.
        self._wait_for_web(host, port, processes)
        self._banner(host, port)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} stopped (exit {process.returncode}); stopping all."
                        )
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("Lapor stopped.")

    def _wait_for_web(self, host, port, processes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        address = "127.0.0.1" if host in ("0.0.0.0", "", "::", "[::]") else host.strip("[]")  # noqa: S104
        while time.monotonic() < deadline and all(p.poll() is None for p in processes.values()):
            try:
                with socket.create_connection((address, port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.3)
        time.sleep(2)  # Celery prints its banner a moment after starting

    def _banner(self, host, port):
        database = settings.DATABASES["default"]
        self.stdout.write(self.style.SUCCESS(f"\nLapor runs at http://{host}:{port}/"))
        self.stdout.write(f"  database: {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}")
        self.stdout.write(f"  broker:   {settings.CELERY_BROKER_URL.split('@')[-1]}")
        accounts = demo_accounts_visible()
        if accounts:
            self.stdout.write("  demo accounts (username / password):")
            for account in accounts:
                self.stdout.write(
                    f"    {account.username:<26} {account.password}   {account.description}"
                )
        self.stdout.write("  Press Ctrl-C to stop the web server, the worker and beat.\n")
