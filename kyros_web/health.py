"""Liveness and readiness probes (SPEC §12): JSON, no login."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    """The database answers a query; 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        current_app.logger.warning("readiness check failed: %s", exc.__class__.__name__)
        return jsonify(status="unavailable", database="unreachable"), 503
    finally:
        db.session.remove()
    return jsonify(status="ok", database="ok")
