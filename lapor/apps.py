from django.apps import AppConfig


class LaporConfig(AppConfig):
    """The project package as an app: its template tags and the demo's commands."""

    name = "lapor"
    verbose_name = "Lapor"

    def ready(self) -> None:
        from . import pagecache

        pagecache.install()
