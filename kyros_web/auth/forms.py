"""Login form: presence and format only."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(message="Enter your email"),
                                            Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password"),
                                                     Length(max=1024)])
