"""A Redis cache that degrades to "no cache" while Redis is unreachable.

The cache holds only what may be lost: rate-limit counters. Django's own Redis backend raises
on every call while Redis is down, and django-ratelimit then answers 500 to every complaint
submission: one Redis outage would close the front door. This backend logs a warning and
answers as an empty cache instead (``get`` gives the default, ``add`` and ``incr`` report that
nothing was stored); with ``RATELIMIT_FAIL_OPEN`` the limiter then lets the request through.
Login lock-out does not depend on it: django-axes keeps its counts in the database.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# One warning per this many seconds and process, so an outage does not flood the log.
WARN_EVERY_SECONDS = 30
# After a failure, calls skip Redis for this long: a Redis that does not answer at all (a
# network partition rather than a refused connection) would otherwise cost every request a
# connect timeout per cache call.
RETRY_AFTER_SECONDS = 10


class CacheUnavailable(RedisError):
    """Raised instead of calling Redis while it is considered down."""


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0
    _down_until = 0.0

    @property
    def _cache(self):
        # Replaces the parent's cached_property: the client is still made once per instance.
        if time.time() < ResilientRedisCache._down_until:
            raise CacheUnavailable("skipped: Redis failed moments ago")
        client = self.__dict__.get("_redis_client")
        if client is None:
            client = self.__dict__["_redis_client"] = self._class(self._servers, **self._options)
        return client

    def _unavailable(self, operation: str, exc: Exception) -> None:
        now = time.time()
        if not isinstance(exc, CacheUnavailable):
            ResilientRedisCache._down_until = now + RETRY_AFTER_SECONDS
        if now - ResilientRedisCache._last_warning >= WARN_EVERY_SECONDS:
            ResilientRedisCache._last_warning = now
            logger.warning(
                "Cache (Redis) unavailable during %s: %s. Rate limits are not enforced "
                "until it answers again.",
                operation,
                exc,
            )

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            self._unavailable("add", exc)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            self._unavailable("get", exc)
            return default

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._unavailable("set", exc)

    def touch(self, key, timeout=None, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as exc:
            self._unavailable("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            self._unavailable("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            self._unavailable("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as exc:
            self._unavailable("has_key", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            # None, as a cache that lost the key would give: django-ratelimit then fails open.
            self._unavailable("incr", exc)
            return None

    def set_many(self, data, timeout=None, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as exc:
            self._unavailable("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as exc:
            self._unavailable("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except RedisError as exc:
            self._unavailable("clear", exc)
            return False
