"""Login, user and API token forms: presence and format only."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import choices
from .roles import Role
from .tokens import MAX_DAYS


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email"),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password"),
                                                     Length(max=1024)])


class UserForm(FlaskForm):
    full_name = StringField("Full name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=choices((r.value, r.title) for r in Role))
    is_active = BooleanField("Active (may log in)")
    password = PasswordField("New password", description="Leave empty to keep the password",
                             validators=[Optional(), Length(min=8, max=1024,
                                         message="Password must be at least 8 characters")])


class NewUserForm(UserForm):
    email = EmailField("Email", validators=[DataRequired("Email is required"), Length(max=254)])
    password = PasswordField("Password", validators=[
        DataRequired("Password is required"),
        Length(min=8, max=1024, message="Password must be at least 8 characters")])


class TokenForm(FlaskForm):
    """A new personal access token; the name and the days are checked by the service (the
    same rule as the CLI's)."""

    name = StringField("Name", description="What will use it, e.g. “ERP nightly import”")
    read_only = BooleanField("Read-only (may read, never write)")
    days = StringField("Days until expiry",
                       description=f"From 1 to {MAX_DAYS}; leave empty for a token that never "
                                   "expires")
