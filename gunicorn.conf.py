"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import multiprocessing
import os

bind = os.environ.get("KYROS_BIND", "0.0.0.0:8000")
# Two workers per core plus one, unless set: the app keeps no state in process memory.
workers = int(os.environ.get("KYROS_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Threads per worker (gunicorn's gthread worker): a request waiting on a row lock (a save in
# a season whose import is being written) holds one thread, not the worker, so the other
# pages go on being served (docs/DECISIONS.md, "Browsing under work").
threads = int(os.environ.get("KYROS_THREADS", 4))
# Long enough for a large upload's commit; a stuck worker is still replaced.
timeout = int(os.environ.get("KYROS_WORKER_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
forwarded_allow_ips = os.environ.get("KYROS_FORWARDED_ALLOW_IPS", "127.0.0.1")
