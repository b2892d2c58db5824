"""`flask kyros …`: operator commands, thin, on the same services as the pages (SPEC §11)."""
from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from .auth.roles import Role
from .auth.tokens import MAX_DAYS
from .errors import DomainError
from .extensions import db


class CommandGroup(AppGroup):
    """Commands run in the app context (AppGroup); a rule's refusal prints its message and
    exits 1, a usage error exits 2 (click's own)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=CommandGroup)
def kyros():
    """Kyros operator commands."""


@kyros.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for when not given.")
@click.option("--name", "full_name", default="", help="Full name shown in the app.")
def create_user_command(email, role, password, full_name):
    """Create a user who can log in with EMAIL and the password."""
    from .auth.services import create_user

    user = create_user(db.session, None, email=email, role=role, password=password,
                       full_name=full_name)
    click.echo(f"Created {user.role.value} {user.email}")


@kyros.group(cls=CommandGroup)
def token():
    """Personal access tokens for the JSON API: create, revoke."""


def _token_owner(email: str):
    from .auth.services import find_user

    owner = find_user(db.session, email)
    if owner is None:
        raise click.ClickException(f"No user {email}")
    return owner


@token.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What will use the token, e.g. \"ERP import\".")
@click.option("--read-only", is_flag=True, help="The token may only read.")
@click.option("--days", metavar="N", default=None,
              help=f"Days until it expires, 1 to {MAX_DAYS} (default: it never expires).")
def token_create(email, name, read_only, days):
    """Create a token for EMAIL and print it on one line, only the token (it is not stored
    and is never shown again)."""
    from .auth.tokens import create_token

    new = create_token(db.session, None, _token_owner(email), name=name, read_only=read_only,
                       days=days)
    click.echo(new.secret)


@token.command("revoke")
@click.argument("email")
@click.argument("name")
def token_revoke(email, name):
    """Revoke EMAIL's live token NAME: the API refuses it from now on."""
    from .auth.tokens import live_token_named, revoke_token

    found = live_token_named(db.session, _token_owner(email), name)
    revoked = revoke_token(db.session, None, found.id)
    click.echo(f"Revoked the token “{revoked.name}” of {revoked.user.email}")


@kyros.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (for tests and "
                                            "one-off runs).")
def worker_command(burst):
    """Run imports and exports from the job queue (KYROS_REDIS_URL); start one per core left
    over by the app's own workers."""
    from flask import current_app

    from .jobs.queue import background, make_worker
    from .jobs.services import worker_killed

    app = current_app._get_current_object()
    if not background(app.config):
        raise click.ClickException("KYROS_REDIS_URL is not set: without a queue, imports and "
                                   "exports run in the web process and need no worker.")
    worker = make_worker(app, worker_killed)
    worker.work(burst=burst, with_scheduler=False, logging_level="INFO")


@kyros.command("demo-data")
@click.option("--scale", type=click.Choice(["sample", "bench", "large"]), default="sample",
              help="sample: a small retailer with six seasons; bench: a mid-size retailer "
                   "(200 locations, 68,400 OTB rows, 20,000 POs) for benchmarks; large: a "
                   "national chain (1,000 locations, 1.71 million OTB rows, 200,000 POs, "
                   "1.8 million rows of actuals; minutes to load).")
def demo_data_command(scale):
    """Load the demo retailer, users and seasons into an empty database."""
    from . import demo

    if demo.has_data(db.session):
        click.echo("The database already has data; demo data not loaded.")
        return
    if scale in ("bench", "large"):
        from .demo.bench import load_bench, load_large

        demo.load_users(db.session, echo=click.echo)
        (load_bench if scale == "bench" else load_large)(db.session, echo=click.echo)
    else:
        demo.load(db.session, echo=click.echo)
    click.echo(f"Demo data loaded. Log in with any of these, password {demo.DEMO_PASSWORD!r}:")
    for email, role, _ in demo.DEMO_USERS:
        click.echo(f"  {email:<24} {role}")


@kyros.command("refresh-figures")
@click.argument("codes", nargs=-1)
def refresh_figures_command(codes):
    """Sum the figures of the seasons CODES (every season when none) again from their data.
    Writes keep them up to date; this is for rows changed outside Kyros."""
    from sqlalchemy import select

    from .analytics.summaries import refresh_season
    from .seasons.models import Season

    seasons = ([_season(code) for code in codes] if codes
               else db.session.scalars(select(Season).order_by(Season.season_code)).all())
    for season in seasons:
        code = season.season_code
        refresh_season(db.session, season.id)
        click.echo(f"{code}: figures summed again")


def acting_user(email: str | None):
    """The user a command acts as: --user EMAIL, or else the first active admin."""
    from sqlalchemy import select

    from .auth.models import User
    from .auth.services import find_user

    if email:
        user = find_user(db.session, email)
        if user is None or not user.is_active:
            raise click.ClickException(f"No active user {email}")
        return user
    user = db.session.scalar(select(User).where(User.role == Role.ADMIN, User.is_active.is_(True))
                             .order_by(User.created_at).limit(1))
    if user is None:
        raise click.ClickException("No active admin to act as; create one with: "
                                   "flask kyros create-user EMAIL --role admin")
    return user


def _season(code: str):
    from .seasons.services import get_season

    return get_season(db.session, code)


user_option = click.option("--user", "user_email", metavar="EMAIL",
                           help="Act as this user (default: the first active admin).")


@kyros.group(cls=CommandGroup)
def season():
    """Drive a season's workflow: create, assign, advance, show."""


@season.command("create")
@click.option("--name", required=True)
@click.option("--start", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--end", "end", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@user_option
def season_create(name, start, end, user_email):
    """Create a season and print its code."""
    from .seasons.services import create_season

    user = acting_user(user_email)
    created = create_season(db.session, user, name=name, start_date=start.date(),
                            end_date=end.date())
    click.echo(created.season_code)


@season.command("assign")
@click.argument("code")
@click.argument("location_codes", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every active location.")
@click.option("--cluster", metavar="NAME", help="Every active location of this cluster.")
@user_option
def season_assign(code, location_codes, all_, cluster, user_email):
    """Assign locations to a season: --all, --cluster NAME, or LOCATION_CODE…"""
    from sqlalchemy import select

    from .masterdata.models import Location
    from .masterdata.services import find_cluster
    from .seasons import services

    chosen = sum(bool(x) for x in (all_, cluster, location_codes))
    if chosen != 1:
        raise click.UsageError("Give exactly one of --all, --cluster NAME or location codes.")
    user = acting_user(user_email)
    target = _season(code)
    if all_:
        added = services.assign_all_active(db.session, user, target.id)
    elif cluster:
        found = find_cluster(db.session, cluster)
        if found is None:
            raise click.ClickException(f"No cluster named {cluster!r}")
        added = services.assign_cluster(db.session, user, target.id, found.id)
    else:
        codes = {c.strip().upper() for c in location_codes}
        locations = db.session.scalars(select(Location).where(Location.location_code.in_(codes))).all()
        unknown = sorted(codes - {loc.location_code for loc in locations})
        if unknown:
            raise click.ClickException("Unknown location codes: " + ", ".join(unknown))
        added = services.assign_locations(db.session, user, target.id,
                                          [loc.id for loc in locations])
    click.echo(f"{added} location(s) added to {target.season_code}")


@season.command("advance")
@click.argument("code")
@click.option("--note", default=None, help="Recorded with the transition.")
@user_option
def season_advance(code, note, user_email):
    """Move a season to its next status; exit status 1 with the gate's message when refused."""
    from .seasons.services import advance_season

    user = acting_user(user_email)
    target = _season(code)
    moved = advance_season(db.session, user, target.id, note=note)
    click.echo(f"{moved.season_code} is now {moved.status.value}")


@season.command("show")
@click.argument("code")
def season_show(code):
    """Print a season's status, the gates for leaving it, and its counts."""
    from .seasons.queries import season_counts
    from .seasons.services import season_gates
    from .seasons.workflow import next_status

    target = _season(code)
    click.echo(f"{target.season_code}  {target.name}")
    click.echo(f"dates:   {target.start_date} to {target.end_date}")
    click.echo(f"status:  {target.status.value}")
    following = next_status(target.status)
    if following:
        click.echo(f"gates to {following.value}:")
        for gate in season_gates(db.session, target):
            mark = "ok  " if gate.passed else ("FAIL" if gate.hard else "warn")
            click.echo(f"  [{mark}] {gate.message}")
    click.echo("counts:")
    for name, value in season_counts(db.session, target).items():
        click.echo(f"  {name:<16} {value}")


@kyros.command("import")
@click.argument("kind", type=click.Choice(["locations", "categories", "plans", "otb", "range",
                                           "pos", "grns", "actuals"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--season", "season_code", metavar="CODE", help="The season (all kinds but "
              "locations and categories).")
@user_option
@click.option("--dry-run", is_flag=True, help="Check and count only; write nothing.")
def import_command(kind, file, season_code, user_email, dry_run):
    """Import a CSV or XLSX file: the same checks, preview counts and all-or-nothing commit
    as the upload page. Exit 0 when committed (or valid with --dry-run), 1 when rejected."""
    from flask import current_app

    from .uploads import parsing
    from .uploads.models import UploadStatus
    from .uploads.services import commit_upload, handler_class, preview_upload

    cls = handler_class(kind)
    if cls.area is not None and not season_code:
        raise click.UsageError(f"{kind} belong to a season: give --season CODE.")
    user = acting_user(user_email)
    season = _season(season_code) if cls.area is not None else None
    with open(file, "rb") as fh:
        data = fh.read()
    try:
        upload = preview_upload(db.session, user, kind=kind, data=data,
                                file_name=os.path.basename(file), season=season,
                                config=current_app.config)
    except parsing.FileRejected as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{upload.file_name}: {upload.rows_total} rows: {upload.rows_new} new, "
               f"{upload.rows_updated} updated, {upload.rows_unchanged} unchanged, "
               f"{upload.rows_rejected} rejected")
    summary = upload.summary or {}
    if summary.get("unknown_columns"):
        click.echo("Ignored columns: " + ", ".join(summary["unknown_columns"]))
    for warning in summary.get("warnings", []):
        click.echo(f"Warning: {warning}")
    if upload.status is UploadStatus.REJECTED:
        if summary.get("message"):
            click.echo(f"Error: {summary['message']}", err=True)
        for error in summary.get("errors", [])[:20]:
            click.echo(f"Row {error['row']}, {error['column']} {error['value']!r}: "
                       f"{error['message']}", err=True)
        raise click.exceptions.Exit(1)
    if dry_run:
        click.echo("Dry run: the file is valid; nothing was written.")
        return
    commit_upload(db.session, user, upload.id, config=current_app.config)
    click.echo("Committed.")


def _scope(side: str, location: str | None, cluster: str | None, category: str | None,
           month: str | None):
    """A scope of a move from codes: a location code or a cluster name (neither: every
    location), a category code at any level (none: every category), a month YYYY-MM (none:
    every month)."""
    from sqlalchemy import select

    from .args import as_month
    from .masterdata.models import Category, Location
    from .masterdata.services import find_cluster
    from .planning.adjustments import Scope

    if location and cluster:
        raise click.UsageError(f"Give --{side}-location or --{side}-cluster, not both.")
    location_id = cluster_id = category_id = first = None
    if location:
        location_id = db.session.scalar(select(Location.id).where(
            Location.location_code == location.strip().upper()))
        if location_id is None:
            raise click.ClickException(f"Unknown location code {location}")
    if cluster:
        found = find_cluster(db.session, cluster)
        if found is None:
            raise click.ClickException(f"No cluster named {cluster!r}")
        cluster_id = found.id
    if category:
        category_id = db.session.scalar(select(Category.id).where(
            Category.code == category.strip().upper()))
        if category_id is None:
            raise click.ClickException(f"Unknown category code {category}")
    if month:
        first = as_month(month)
        if first is None:
            raise click.UsageError(f"--{side}-month is a month as YYYY-MM, not {month!r}")
    return Scope(location_id, cluster_id, category_id, first)


def _scope_options(side: str):
    def wrap(fn):
        for name, metavar, what in (("location", "CODE", "a location"),
                                    ("cluster", "NAME", "a cluster's locations"),
                                    ("category", "CODE", "a category at any level"),
                                    ("month", "YYYY-MM", "a month")):
            fn = click.option(f"--{side}-{name}", f"{side}_{name}", metavar=metavar,
                              help=f"The {'source' if side == 'from' else 'target'}: {what} "
                                   f"(default: every one).")(fn)
        return fn
    return wrap


@kyros.command("adjust")
@click.argument("code")
@click.option("--amount", required=True, help="The open to buy to move, e.g. 2500.00.")
@_scope_options("from")
@_scope_options("to")
@click.option("--reason", required=True, help="Why the open to buy should move.")
@user_option
def adjust_command(code, amount, from_location, from_cluster, from_category, from_month,
                   to_location, to_cluster, to_category, to_month, reason, user_email):
    """Ask to move open to buy between two scopes of a season (issue 17): the request waits
    for another planner or an admin (flask kyros decide)."""
    from .planning.services import request_adjustment

    user = acting_user(user_email)
    target = _season(code)
    row = request_adjustment(
        db.session, user, target.id, amount=amount,
        source=_scope("from", from_location, from_cluster, from_category, from_month),
        target=_scope("to", to_location, to_cluster, to_category, to_month), reason=reason)
    click.echo(f"Request #{row.number} in {target.season_code} to move {row.amount} waits "
               "for another planner or an admin")


@kyros.command("decide")
@click.argument("code")
@click.argument("number", type=int)
@click.option("--approve/--reject", required=True, help="The decision.")
@click.option("--note", required=True, help="Recorded with the decision.")
@click.option("--override-reason", default=None,
              help="Approve although the source has less open to buy left, and why.")
@user_option
def decide_command(code, number, approve, note, override_reason, user_email):
    """Approve or reject request NUMBER of a season; never one's own."""
    from sqlalchemy import select

    from .planning.models import OTBAdjustment
    from .planning.services import decide_adjustment

    user = acting_user(user_email)
    target = _season(code)
    adjustment_id = db.session.scalar(select(OTBAdjustment.id).where(
        OTBAdjustment.season_id == target.id, OTBAdjustment.number == number))
    if adjustment_id is None:
        raise click.ClickException(f"No request #{number} in {target.season_code}")
    row = decide_adjustment(db.session, user, adjustment_id, approve=approve, note=note,
                            override_reason=override_reason)
    click.echo(f"Request #{row.number} in {target.season_code} is {row.status}")


@kyros.command("exceptions")
@click.argument("code")
@click.option("--min-severity", type=click.Choice(["high", "medium", "low"]), default="low",
              show_default=True, help="Exit 1 when an open exception is at least this severe.")
def exceptions_command(code, min_severity):
    """Print season CODE's open exceptions, one a line (severity, kind, what, figure), every
    one of them (no cap); exit 1 when any is at or above --min-severity, else 0 (for
    monitoring)."""
    from .exceptions import queries
    from .exceptions.rules import Severity
    from .templating import money

    target = _season(code)
    if target.status not in queries.WATCHED:
        click.echo(f"Season {target.season_code} is {target.status.value}: the inbox watches "
                   "a season from plan uploaded until it is locked.")
        return
    found, _ = queries.find(db.session, target, limits=None)
    open_ = queries.ordered([f for f in found if f.is_open])
    for f in open_:
        unit = f.kind.unit
        figure = (money(f.figure) if unit == "money" else
                  f"{f.figure} points" if unit == "points" else f"{f.figure} %")
        click.echo(f"{f.severity.value:<6}  {f.kind.code:<15}  {f.what}  {figure} "
                   f"{f.kind.measure}")
    acknowledged = len(found) - len(open_)
    alarming = [f for f in open_ if f.severity.at_least(Severity(min_severity))]
    click.echo(f"{len(open_)} open, {acknowledged} acknowledged; {len(alarming)} open at "
               f"{min_severity} or above in {target.season_code}.")
    if alarming:
        raise SystemExit(1)


@kyros.command("digest")
@click.option("--dry-run", is_flag=True, help="Print the digest; mail and remember nothing.")
def digest_command(dry_run):
    """Mail the exceptions no digest has told of yet to everyone who may acknowledge them
    (for cron, daily). Without SMTP (KYROS_SMTP_URL) it prints the digest and remembers
    nothing; when a message cannot be sent it remembers nothing and exits 1, so the next run
    tells again."""
    from . import mail
    from .exceptions.services import digest, record_digest

    found = digest(db.session)
    click.echo(found.text.rstrip())
    if dry_run or not found.count:
        return
    if not mail.configured():
        click.echo("SMTP is not configured (KYROS_SMTP_URL): nothing was mailed or remembered.")
        return
    subject = f"Kyros: {found.count} new exception(s)"
    messages = [mail.Message((email,), subject, found.text) for email in found.recipients]
    sent = mail.send_now(messages)
    if sent != len(messages):
        raise click.ClickException(f"{sent} of {len(messages)} message(s) sent; nothing "
                                   "remembered, the next digest tells again")
    recorded = record_digest(db.session, found)
    click.echo(f"Mailed to {sent} person(s); {recorded} exception(s) will not be told again.")
