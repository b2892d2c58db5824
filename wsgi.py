"""WSGI entry point: `gunicorn wsgi:app`, and where `flask` finds the app."""
from kyros_web import create_app

app = create_app()
