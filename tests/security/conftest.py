"""Fixtures of the security tests: Django's Redis cache on the real Redis at 127.0.0.1:6379, in a database
number of these tests' own and under a key prefix of this run, removed afterwards."""
import os
import uuid

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture
def redis_prefix():
    """A key prefix for this test's keys; they are deleted afterwards (other runs may share the database)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        # A developer's machine may have no Redis; CI starts one (.ci/run), so there it is a failure.
        reason = f"Redis does not answer on 127.0.0.1:6379: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    prefix = f"security-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_cache(settings, redis_prefix):
    """The default cache is Redis for this test, as CACHE_URL=redis://… makes it in production."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": redis_prefix,
        }
    }
    return redis_prefix
