"""The Redis of this machine for the tests that need a real one: skipped where it does not
answer, unless KYROS_REQUIRE_REDIS=1 (CI) makes that a failure."""
from __future__ import annotations

import os
import socket

import pytest


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> None:
    if redis_reachable():
        return
    if os.environ.get("KYROS_REQUIRE_REDIS"):
        pytest.fail("KYROS_REQUIRE_REDIS is set but Redis is not reachable at 127.0.0.1:6379")
    pytest.skip("Redis is not reachable at 127.0.0.1:6379 (set KYROS_REQUIRE_REDIS=1 to make "
                "this a failure)")
