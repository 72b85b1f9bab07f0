"""Whole-page cache for anonymous visitors of the public pages, emptied by every data change.

**What may be cached.** Only GET/HEAD requests of a visitor with no session, no sign-in and no
API credentials: no cookie besides the CSRF and language cookies, no ``Authorization`` header.
Only 200 answers that set no cookie, did not touch the session, and say nothing against it
(``Cache-Control: private``, ``no-store`` or ``no-cache``, as the complaint page says for a
rahasia complaint or a reporter's own view). So a page with someone's own data never enters the
cache, and a cached page is what any anonymous visitor would get.

**Keys.** Host, full path with its query, the language chosen for the request and the
``Accept`` header (the API's formats), under one *generation*.

**Invalidation.** The generation is a counter in the cache. Every write to a table whose rows
public pages show (complaints and their events, attachments, supporters and breaches; agencies,
regions, categories; the ranking's results and schemes) is seen by a database execute wrapper
(installed on every connection: the web, the worker, the shell), and the counter moves when that
transaction commits. A page is rendered under the generation read *before* its queries, so a
page that could miss a change is stored under a generation that change has already retired.
If the counter is lost (Redis flushed or evicted) a fresh one starts from the clock, so old
entries are never taken for current. Entries also expire after ``PAGE_CACHE_SECONDS`` (relative
times such as "2 hours ago" are at most that old; 0 turns the cache off). Pages read from a
read replica are served from the cache but never stored: the replica may not have the change
yet that moved the generation.

**CSRF.** Every page carries the language switch, a POST form with a CSRF token. The stored page
holds a placeholder; each answer gets the visitor's own token, as an uncached page would.

**Streamed answers** (the open-data downloads) are copied while they are sent and stored once
sent in full, if at most ``MAX_STREAMED_BYTES``; a hit is streamed again from the stored copy.

**Values.** ``generation_cached_at`` keeps a computed value (the staff figures' counts) under
the same generation, keyed on what the caller passes: for staff, their own queryset's SQL; it
may also serve an entry of an earlier generation for a few seconds (the figures say how old
their counts are).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from .dbrouter import reading_from_replica

logger = logging.getLogger(__name__)

GENERATION_KEY = "lapor:pages:generation"
KEY_PREFIX = "lapor:pages:v1:"
CSRF_PLACEHOLDER = b"@@lapor-csrf-token@@"
CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")([^"]*)(")')
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language", "Link")
# A streamed answer (the open-data downloads) is kept only up to this size: it is gathered while
# it is sent, and dropped (not stored) once bigger, so a worker never holds more than this.
MAX_STREAMED_BYTES = 8 * 1024 * 1024
STREAMED_CHUNK_BYTES = 64 * 1024

# Tables whose rows a public page may show: a committed write to one of them retires every page.
# Not the tally (its live view already counts the deltas), the sweep's watermarks, the outbox,
# sessions or sign-in records: those change all the time and no page shows them as such.
WATCHED = re.compile(
    r"""\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)\s+"?"""
    r"""(?:complaints_(?!tally|sweepmark|contactview)|agencies_|awards_)""",
    re.IGNORECASE,
)


def _seconds() -> int:
    """How long an entry lives; 0 (no page cache) with a cache of one process only, where a
    change made by another process (the worker, another web worker) could not retire it."""
    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        return 0
    return int(getattr(settings, "PAGE_CACHE_SECONDS", 120))


# --- The generation ----------------------------------------------------------------------------


def _fresh_generation() -> int:
    """A starting value no earlier counter reached: the clock in microseconds."""
    return time.time_ns() // 1000


def generation_bump() -> None:
    """Retire every cached page (after a commit that changed public data)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no counter (never set, evicted, Redis flushed): start a new one
        cache.set(GENERATION_KEY, _fresh_generation(), None)
    except Exception:  # the cache is down: then no page is served from it either
        logger.warning("Page cache generation not moved: cache unavailable", exc_info=True)


def _watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and WATCHED.search(sql):
        connection = context["connection"]
        pending = connection.run_on_commit
        if not any(func is generation_bump for _sids, func, _robust in pending):
            transaction.on_commit(generation_bump, using=connection.alias, robust=True)
    return result


def _install(sender, connection, **kwargs) -> None:
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def install() -> None:
    """Watch the writes of every database connection (from ``LaporConfig.ready``)."""
    connection_created.connect(_install, dispatch_uid="lapor.pagecache")


# --- The pages ---------------------------------------------------------------------------------


def _anonymous(request: HttpRequest) -> bool:
    allowed = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    return (
        request.method in ("GET", "HEAD")
        and set(request.COOKIES) <= allowed
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _page_key(request: HttpRequest) -> str:
    parts = "\n".join(
        (
            request.get_host(),
            request.get_full_path(),
            getattr(request, "LANGUAGE_CODE", "") or "",
            request.META.get("HTTP_ACCEPT", ""),
        )
    )
    return KEY_PREFIX + hashlib.sha256(parts.encode()).hexdigest()


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    if response.status_code != 200 or response.cookies:
        return False
    control = response.get("Cache-Control", "").lower()
    if any(word in control for word in ("private", "no-store", "no-cache")):
        return False
    if reading_from_replica():
        # A replica may be a moment behind the commit that moved the generation: what it
        # read must not be kept under the new generation.
        return False
    session = getattr(request, "session", None)
    if session is not None and (session.modified or session.session_key):
        return False
    return getattr(request, "user", None) is None or not request.user.is_authenticated


def _answer(request: HttpRequest, entry: dict) -> HttpResponse | StreamingHttpResponse:
    body = entry["body"]
    if entry.get("streamed"):
        chunks = (
            body[at : at + STREAMED_CHUNK_BYTES] for at in range(0, len(body), STREAMED_CHUNK_BYTES)
        )
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            chunks, status=entry["status"]
        )
        for name, value in entry["headers"]:
            response[name] = value
        return response
    if CSRF_PLACEHOLDER in body:
        body = body.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    response = HttpResponse(body, status=entry["status"])
    for name, value in entry["headers"]:
        response[name] = value
    return response


def _current_generation(got: dict) -> int:
    current = got.get(GENERATION_KEY)
    if current is None:
        current = _fresh_generation()
        if not cache.add(GENERATION_KEY, current, None):
            current = cache.get(GENERATION_KEY, current)
    return current


def public_page(view: Callable) -> Callable:
    """Serve ``view``'s answers to anonymous visitors from the cache (see the module)."""

    @wraps(view)
    def cached(request, *args, **kwargs):
        if _seconds() <= 0 or not _anonymous(request):
            return view(request, *args, **kwargs)
        key = _page_key(request)
        try:
            got = cache.get_many([GENERATION_KEY, key])
            generation = _current_generation(got)
        except Exception:  # the cache is down: answer as if there were none
            logger.warning("Page cache unavailable", exc_info=True)
            return view(request, *args, **kwargs)
        entry = got.get(key)
        if entry is not None and entry.get("generation") == generation:
            return _answer(request, entry)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()  # a DRF or template response: its final bytes
        if response.streaming:
            if _storable(request, response):
                _store_while_streaming(key, generation, response)
            return response
        if _storable(request, response):
            entry = {
                "generation": generation,
                "status": response.status_code,
                "headers": [(h, response[h]) for h in KEPT_HEADERS if h in response],
                "body": CSRF_FIELD.sub(rb"\g<1>" + CSRF_PLACEHOLDER + rb"\g<3>", response.content),
            }
            try:
                cache.set(key, entry, _seconds())
            except Exception:
                logger.warning("Page not cached: cache unavailable", exc_info=True)
        return response

    return cached


def _store_while_streaming(key: str, generation: int, response) -> None:
    """Send the streamed answer as it comes and keep a copy of what was sent; store it once the
    whole answer was sent, if it stayed within ``MAX_STREAMED_BYTES`` (else the copy is dropped
    as soon as it grows past it). An answer cut short (the client went away) is never stored."""
    headers = [(h, response[h]) for h in KEPT_HEADERS if h in response]
    status = response.status_code
    source = response.streaming_content

    def tee():
        kept: list[bytes] | None = []
        size = 0
        for chunk in source:
            if kept is not None:
                size += len(chunk)
                if size > MAX_STREAMED_BYTES:
                    kept = None
                else:
                    kept.append(chunk)
            yield chunk
        if kept is None:
            return
        entry = {
            "generation": generation,
            "status": status,
            "headers": headers,
            "body": b"".join(kept),
            "streamed": True,
        }
        try:
            cache.set(key, entry, _seconds())
        except Exception:
            logger.warning("Download not cached: cache unavailable", exc_info=True)

    response.streaming_content = tee()


# --- Values (the staff figures) ----------------------------------------------------------------

T = TypeVar("T")


def generation_cached_at(
    name: str, parts: tuple, compute: Callable[[], T], *, stale_for: int = 0
) -> tuple[T, datetime]:
    """``compute()`` and when it was computed, kept under the generation like a page: for a
    value that only a committed write to the watched tables can change (the staff figures'
    indicator counts; never "overdue now", which moves with the clock). ``parts`` must name
    everything the value depends on: for staff, the SQL and parameters of the caller's own
    queryset, so two people share an entry only when they ask for the very same rows (never
    another person's scope). The generation is read before ``compute`` runs, as for a page;
    nothing read from a replica is stored.

    ``stale_for`` (seconds): an entry of an earlier generation is still returned while it is
    younger than that, so a committed change shows within ``stale_for`` seconds instead of at
    once, and a steady stream of writes costs one computation per key and period, not one per
    request. The caller shows the time returned ("as of")."""
    seconds = _seconds()
    if seconds <= 0:
        return compute(), timezone.now()
    key = KEY_PREFIX + name + ":" + hashlib.sha256(repr(parts).encode()).hexdigest()
    try:
        got = cache.get_many([GENERATION_KEY, key])
        generation = _current_generation(got)
    except Exception:  # the cache is down: compute as if there were none
        logger.warning("Value cache unavailable", exc_info=True)
        return compute(), timezone.now()
    entry = got.get(key)
    now = timezone.now()
    if isinstance(entry, tuple) and len(entry) == 3:
        stored_generation, computed_at, value = entry
        if stored_generation == generation or (
            stale_for > 0 and timedelta(0) <= now - computed_at < timedelta(seconds=stale_for)
        ):
            return value, computed_at
    value = compute()
    if not reading_from_replica():
        try:
            cache.set(key, (generation, now, value), seconds)
        except Exception:
            logger.warning("Value not cached: cache unavailable", exc_info=True)
    return value, now
