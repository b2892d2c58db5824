"""Who may open a view: the login and role guard every blueprint puts on its write views."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from .roles import Action, may


def role_required(action: Action):
    """View decorator: login required, and 403 unless the user's role allows `action`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not may(current_user.role, action):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_action = action
        return wrapped

    return decorator
