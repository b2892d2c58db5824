"""Login throttling with a Redis store: logins go on when Redis is down, and workers share
the counts when it is up (SPEC §8)."""
import os
import subprocess
import sys
import uuid
from pathlib import Path


from tests.factories import PASSWORD
from tests.redis_server import require_redis

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"

# Each case runs the app in its own Python process, as a gunicorn worker would: the limiter
# is one object per process, and these tests must not change the suite's app's storage.
WORKER = """
import sys
from kyros_web import create_app

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "TESTING": True,
                  "WTF_CSRF_ENABLED": False})
client = app.test_client()
codes = [client.post("/login", data={"email": sys.argv[2], "password": password}).status_code
         for password in sys.argv[3:]]
print(" ".join(map(str, codes)))
"""


def log_in_from_a_worker(storage_uri, database_url, email, passwords, tmp_path):
    """Login attempts made by a fresh process; returns (status codes, its log)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KYROS_RATELIMIT_STORAGE_URI": storage_uri,
           "KYROS_LOGIN_LIMIT_PER_ACCOUNT": "3 per minute",
           "KYROS_LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
           "KYROS_INSTANCE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", WORKER, database_url, email, *passwords],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [int(c) for c in done.stdout.split()], done.stderr


def test_logins_work_when_the_redis_store_is_unreachable(make, session, database_url,
                                                         tmp_path):
    """Nothing listens on port 1: logins still answer, throttled per process, and it is logged."""
    email = make.user("viewer").email
    session.close()  # SQLite: no read transaction of ours may block the worker's login write
    codes, log = log_in_from_a_worker("redis://127.0.0.1:1", database_url, email, [PASSWORD],
                                      tmp_path)
    assert codes == [303]
    codes, log = log_in_from_a_worker("redis://127.0.0.1:1", database_url, email,
                                      ["wrong-1", "wrong-2", "wrong-3", PASSWORD], tmp_path)
    assert codes == [422, 422, 422, 429]
    assert "Rate limit storage unreachable - falling back to in-memory storage" in log


def test_redis_store_shares_the_counts_between_workers(make, session, database_url, tmp_path):
    """Three failures in one worker throttle the account in the next one."""
    require_redis()
    import redis

    email = f"redis-{uuid.uuid4().hex[:12]}@example.com"
    make.user("viewer", email=email)
    session.close()
    try:
        first, log = log_in_from_a_worker(REDIS_URL, database_url, email,
                                          ["wrong-1", "wrong-2", "wrong-3"], tmp_path)
        assert first == [422, 422, 422]
        assert "falling back" not in log
        second, _ = log_in_from_a_worker(REDIS_URL, database_url, email, [PASSWORD], tmp_path)
        assert second == [429]
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(match=f"*{email}*"):
            store.delete(key)
