"""Login, logout, the user's own account page and API tokens, users and every token (admin)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter, login_manager
from ..errors import Conflict, ValidationFailed
from ..forms import FormPage, attach_errors
from ..htmx import redirect_after_write, render
from ..paging import page_number, paginate_objects
from . import tokens as api_tokens
from .forms import LoginForm, NewUserForm, TokenForm, UserForm
from .models import User
from .access import role_required
from .roles import Action
from .services import (authenticate, create_user, end_all_sessions, end_session, session_user,
                       start_session, update_user)

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user of the cookie's login session, if it is still live (one query)."""
    return session_user(db.session, token)


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else goes to the home page."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("index")


THROTTLED = "Too many login attempts. Wait a minute and try again."


def _account_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()


def _failed(response) -> bool:
    """Only failed attempts count towards the limits."""
    return response.status_code != 303


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["KYROS_LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"],
               error_message=THROTTLED, deduct_when=_failed, scope="login-address")
@limiter.limit(lambda: current_app.config["KYROS_LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_account_key, error_message=THROTTLED, deduct_when=_failed,
               scope="login-account")
def login():
    """Show the login form; log in on valid credentials."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            start_session(db.session, user)
            # A fresh session on login: nothing from before survives.
            session.clear()
            login_user(user)
            return redirect(safe_next(request.args.get("next")), code=303)
        form.password.errors = ["Email or password is wrong, or the account is inactive."]
        return render("auth/login.html", block="form", status_code=422, form=form)
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", block="form", status_code=status, form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out: the login session ends on the server, and the cookie is emptied."""
    end_session(db.session, current_user.session_token)
    return _logged_out("You are logged out.")


def _logged_out(message: str):
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("auth.login"), code=303)


@bp.get("/account")
@login_required
def account():
    """The signed-in user's own account: who they are, their API tokens, logging out
    everywhere."""
    live = sum(api_tokens.token_status(t) == "active"
               for t in api_tokens.tokens_of(db.session, current_user))
    return render("auth/account.html", user=current_user, live_tokens=live)


def _tokens_page(form, *, new=None, status_code=200):
    return render("auth/tokens.html", block="tokens", status_code=status_code, form=form,
                  new=new, tokens=api_tokens.tokens_of(db.session, current_user),
                  status=api_tokens.token_status, name_max=api_tokens.NAME_MAX)


@bp.get("/account/tokens")
@login_required
def tokens():
    """The signed-in user's personal access tokens for the JSON API, and a form for a new one."""
    return _tokens_page(TokenForm(formdata=None))


@bp.post("/account/tokens")
@role_required(Action.READ)
def token_create():
    """Create a token and show its secret this once (the page is not stored: no-store, and
    htmx keeps no copy of it in its history)."""
    form = TokenForm()
    if form.validate_on_submit():
        try:
            new = api_tokens.create_token(db.session, current_user, current_user,
                                          name=form.name.data, read_only=form.read_only.data,
                                          days=form.days.data)
        except (ValidationFailed, Conflict) as exc:
            attach_errors(form, exc, default_field="name")
        else:
            return _tokens_page(TokenForm(formdata=None), new=new, status_code=201)
    return _tokens_page(form, status_code=422)


@bp.post("/account/tokens/<uuid:token_id>/revoke")
@role_required(Action.READ)
def token_revoke(token_id):
    """Revoke one of the signed-in user's tokens: the API refuses it from now on."""
    token = api_tokens.revoke_token(db.session, current_user, token_id)
    flash(f"Token “{token.name}” revoked; the API refuses it from now on.", "success")
    return redirect_after_write(url_for("auth.tokens"))


@bp.post("/account/logout-everywhere")
@role_required(Action.READ)
def logout_everywhere():
    """End every login session of the signed-in user, this one included."""
    end_all_sessions(db.session, current_user, current_user)
    return _logged_out("You are logged out on every device.")


USER = FormPage("auth/user_form.html", "user", "auth.users", label=lambda u: u.email)


@bp.get("/users")
@role_required(Action.MANAGE_USERS)
def users():
    """Every user with role and status, paged."""
    page = paginate_objects(db.session, select(User).order_by(User.email),
                            page_number(request.args.get("page")), current_app.config["PAGE_SIZE"])
    return render("auth/users.html", page=page)


@bp.get("/users/tokens")
@role_required(Action.MANAGE_USERS)
def user_tokens():
    """Every token not revoked, with its owner, for an admin to revoke."""
    return render("auth/user_tokens.html", tokens=api_tokens.all_live_tokens(db.session),
                  status=api_tokens.token_status)


@bp.post("/users/tokens/<uuid:token_id>/revoke")
@role_required(Action.MANAGE_USERS)
def user_token_revoke(token_id):
    """Revoke anyone's token (an admin)."""
    token = api_tokens.revoke_token(db.session, current_user, token_id)
    flash(f"Token “{token.name}” of {token.user.email} revoked.", "success")
    return redirect_after_write(url_for("auth.user_tokens"))


@bp.get("/users/new")
@role_required(Action.MANAGE_USERS)
def user_new():
    """The form for a new user."""
    return USER.show(NewUserForm(is_active=True))


@bp.post("/users")
@role_required(Action.MANAGE_USERS)
def user_create():
    """Create a user who can log in at once."""
    form = NewUserForm()
    return USER.save(form, lambda: create_user(
        db.session, current_user, email=form.email.data, role=form.role.data,
        password=form.password.data, full_name=form.full_name.data),
        done="created", default_field="email")


@bp.get("/users/<uuid:user_id>/edit")
@role_required(Action.MANAGE_USERS)
def user_edit(user_id):
    """The form to change a user's name, role, status or password."""
    user = db.get_or_404(User, user_id)
    return USER.show(UserForm(obj=user, role=user.role.value), user)


@bp.post("/users/<uuid:user_id>")
@role_required(Action.MANAGE_USERS)
def user_update(user_id):
    """Save a user; a new role, status or password ends their other sessions."""
    user = db.get_or_404(User, user_id)
    form = UserForm()
    return USER.save(form, lambda: update_user(
        db.session, current_user, user, role=form.role.data, is_active=form.is_active.data,
        password=form.password.data or None, full_name=form.full_name.data), user, done="saved")


@bp.post("/users/<uuid:user_id>/logout-everywhere")
@role_required(Action.MANAGE_USERS)
def user_logout_everywhere(user_id):
    """End every login session of a user (an admin's own included, when it is theirs)."""
    user = db.get_or_404(User, user_id)
    own = user.id == current_user.id
    ended = end_all_sessions(db.session, current_user, user)
    if own:
        return _logged_out("You are logged out on every device.")
    flash(f"{user.email} is logged out everywhere ({ended} session"
          f"{'' if ended == 1 else 's'} ended).", "success")
    return redirect(url_for("auth.user_edit", user_id=user.id), code=303)
