# Kyros production image, one image for both roles (set KYROS_DATABASE_URL, KYROS_SECRET_KEY
# and, for background jobs, KYROS_REDIS_URL):
#   KYROS_ROLE=web     (default) migrations, then gunicorn on port 8000
#   KYROS_ROLE=worker  `flask kyros worker`: runs imports and exports from the job queue
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KYROS_ENV=production \
    KYROS_ROLE=web \
    FLASK_APP=wsgi.py

WORKDIR /app
RUN groupadd --system kyros && useradd --system --gid kyros --home-dir /app kyros

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY kyros_web ./kyros_web
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py ./
RUN mkdir -p /app/instance && chown -R kyros:kyros /app/instance

USER kyros
EXPOSE 8000
# web: the app answers /health; worker: the queue it works from answers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD if [ "$KYROS_ROLE" = worker ]; then \
        python -c "import os, redis; redis.Redis.from_url(os.environ['KYROS_REDIS_URL'], socket_timeout=4).ping()"; \
      else \
        python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"; \
      fi

# web: apply migrations, then serve. Several replicas may start at once: Alembic's version
# table keeps the upgrade idempotent. worker: a forked work horse per job.
CMD ["sh", "-c", "if [ \"$KYROS_ROLE\" = worker ]; then exec flask kyros worker; else flask db upgrade && exec gunicorn -c gunicorn.conf.py wsgi:app; fi"]
