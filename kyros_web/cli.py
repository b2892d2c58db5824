"""`flask kyros …`: operator commands, thin, on the same services as the pages (SPEC §11)."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .auth.roles import Role
from .errors import DomainError
from .extensions import db


@click.group()
def kyros():
    """Kyros operator commands."""


def fail(message: str, code: int = 1):
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@kyros.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given.")
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
@with_appcontext
def create_user_command(email, role, password, full_name):
    """Create a user who can log in with EMAIL and the password."""
    from .auth.services import create_user

    try:
        user = create_user(db.session, None, email=email, role=role, password=password,
                           full_name=full_name)
    except DomainError as exc:
        fail(exc.message)
    click.echo(f"Created {user.role.value} {user.email}")


@kyros.command("demo-data")
@with_appcontext
def demo_data_command():
    """Load the demo retailer, users and seasons into an empty database."""
    from . import demo

    if demo.has_data(db.session):
        click.echo("The database already has data; demo data not loaded.")
        return
    demo.load(db.session, echo=click.echo)
    click.echo(f"Demo data loaded. Log in with any of these, password {demo.DEMO_PASSWORD!r}:")
    for email, role, _ in demo.DEMO_USERS:
        click.echo(f"  {email:<24} {role}")
