"""Kyros: merchandise planning. `create_app` builds the Flask application."""
from __future__ import annotations

import logging
import uuid

from flask import Flask, Request, g, redirect, request, url_for
from flask_login import login_required

from .config import PROJECT_ROOT, load_config


# No inline scripts or styles anywhere: behaviour and looks come from static files only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; object-src 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def create_app(config: dict | None = None) -> Flask:
    """Config → extensions → blueprints → error handlers → cli → template filters."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    register_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    register_templating(app)
    register_request_hooks(app)
    return app


def register_config(app: Flask, overrides: dict | None) -> None:
    from dotenv import load_dotenv

    load_dotenv(PROJECT_ROOT / ".env", override=False)
    app.config.from_mapping(load_config())
    if overrides:
        app.config.update(overrides)
    app.instance_path = app.config["INSTANCE_DIR"]


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table on the metadata)
    from .dbsetup import configure_engine
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import versions
    from .analytics import summaries  # noqa: F401  (keeps a season's figures summed)
    from .extensions import csrf, db, htmx, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    versions.init_app(app)
    if app.config["KYROS_TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["KYROS_TRUSTED_PROXIES"],
                                x_proto=app.config["KYROS_TRUSTED_PROXIES"])
    if (app.config["KYROS_ENV"] == "production"
            and app.config["RATELIMIT_STORAGE_URI"].startswith("memory")):
        app.logger.warning("Login throttling counts in process memory: with several workers or "
                           "hosts set KYROS_RATELIMIT_STORAGE_URI (e.g. redis://host:6379)")
    with app.app_context():
        configure_engine(db.engine)


def register_blueprints(app: Flask) -> None:
    from .analytics.views import bp as analytics_bp
    from .approvals.views import bp as approvals_bp
    from .auth.views import bp as auth_bp
    from .exceptions.views import bp as exceptions_bp
    from .exports.views import bp as exports_bp
    from .health import bp as health_bp
    from .masterdata.views import bp as masterdata_bp
    from .planning.views import bp as planning_bp
    from .purchasing.views import bp as purchasing_bp
    from .uploads.views import bp as uploads_bp
    from .seasons.views import bp as seasons_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(seasons_bp)
    app.register_blueprint(masterdata_bp)
    app.register_blueprint(planning_bp)
    app.register_blueprint(purchasing_bp)
    app.register_blueprint(uploads_bp)
    app.register_blueprint(analytics_bp)
    app.register_blueprint(approvals_bp)
    app.register_blueprint(exceptions_bp)
    app.register_blueprint(exports_bp)

    from .api import init_app as init_api

    init_api(app)

    @app.get("/")
    @login_required
    def index():
        """Home: the seasons list."""
        return redirect(url_for("seasons.index"))


def register_errorhandlers(app: Flask) -> None:
    from .errorpages import register

    register(app)


def register_cli(app: Flask) -> None:
    from .cli import kyros

    app.cli.add_command(kyros)


def register_templating(app: Flask) -> None:
    from .auth.roles import Action, may
    from .jobs.progress import clock
    from .jobs.queue import background
    from .templating import FILTERS, NUMBER_KINDS, report_cell, report_row

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.filters["clock"] = clock
    # Whether heavy exports are built by a background job (a queue is configured).
    app.jinja_env.globals["background_jobs"] = lambda: background(app.config)
    app.jinja_env.globals.update(Action=Action, may=may, number_kinds=NUMBER_KINDS,
                                  report_cell=report_cell, report_row=report_row)


def field_with_nul(req: Request) -> str | None:
    """The name of the first query argument, form field, uploaded file or URL part whose name
    or value holds a NUL byte (PostgreSQL refuses it in text); None when there is none.
    Uploaded files are checked by name only: their content is the parser's business."""
    for source in (req.args, req.form):
        for name, value in source.items(multi=True):
            if "\x00" in name or "\x00" in value:
                return name
    for name, upload in req.files.items(multi=True):
        if "\x00" in name or "\x00" in (upload.filename or ""):
            return name
    for name, value in (req.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            return name
    return None


def register_request_hooks(app: Flask) -> None:
    from .errorpages import error_page
    from .problems import is_api_request, problem

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    @app.before_request
    def assign_request_id():
        g.request_id = uuid.uuid4().hex[:12]

    def refuse_nul_bytes():
        name = field_with_nul(request)
        if name is not None:
            shown = name.replace("\x00", "\\0")
            if is_api_request():
                return problem("bad-request", f"The field \"{shown}\" contains a NUL byte "
                                              "(character 0), which is not allowed.")
            return error_page(400, f"The field \"{shown}\" contains a NUL byte (character 0), "
                                   "which is not allowed. Nothing was saved.")
        return None

    # First of all hooks: CSRF and the login throttle read the form before any view does.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul_bytes)

    @app.after_request
    def vary_on_htmx(response):
        if response.mimetype == "text/html":
            response.vary.add("HX-Request")
            response.vary.add("HX-History-Restore-Request")
        return response

    @app.after_request
    def no_store(response):
        # Pages show data behind a login: no browser or proxy keeps a copy to show after logout.
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config["KYROS_ENV"] == "production":
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
