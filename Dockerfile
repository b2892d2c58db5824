# Kyros production image: gunicorn on PostgreSQL (set KYROS_DATABASE_URL and KYROS_SECRET_KEY).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KYROS_ENV=production \
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
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

# Apply migrations, then serve. Several replicas may start at once: Alembic's
# version table keeps the upgrade idempotent.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn -c gunicorn.conf.py wsgi:app"]
