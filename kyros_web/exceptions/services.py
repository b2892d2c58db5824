"""Writes of the exceptions inbox (issue 17, item 4): a season's thresholds and the
acknowledgement of one exception, each under the season's row lock and audited."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from .. import audit, mail
from ..auth.roles import Action, require
from ..auth.services import emails_allowed
from ..modelbase import utcnow
from ..errors import NotEditable, NotFound, SeasonLocked, ValidationFailed
from ..seasons.services import lock_season
from ..seasons.workflow import SeasonStatus
from ..transaction import transactional
from . import queries, rules
from .models import DigestEntry, ExceptionAcknowledgement, ExceptionThresholds


def _require_watched(season) -> None:
    """The inbox watches a season from plan uploaded until it is locked: its thresholds and
    acknowledgements change only then."""
    if season.status is SeasonStatus.LOCKED:
        raise SeasonLocked()
    if season.status not in queries.WATCHED:
        raise NotEditable(f"Season {season.season_code} has no exceptions to watch until its "
                          "plan is uploaded")


@transactional
def update_thresholds(session: Session, user, season_id: uuid.UUID, values: dict
                      ) -> ExceptionThresholds:
    """Set a season's four thresholds (rules.THRESHOLDS: numbers from 0 to 100), by a planner
    or an admin; the first change stores the season's row. Raises ValidationFailed naming
    each bad field, SeasonLocked / NotEditable outside plan uploaded .. range uploaded."""
    require(user, Action.EDIT_PLANNING)
    found, errors = rules.read_thresholds(values)
    if errors:
        raise ValidationFailed(errors)
    season = lock_season(session, season_id)
    _require_watched(season)
    row = session.scalar(select(ExceptionThresholds)
                         .where(ExceptionThresholds.season_id == season.id))
    before = (rules.DEFAULTS if row is None
              else {n: getattr(row, n) for n in rules.THRESHOLD_NAMES})
    if row is None:
        row = ExceptionThresholds(season_id=season.id, version=1, updated_by=user.id, **found)
        session.add(row)
    else:
        for name, value in found.items():
            setattr(row, name, value)
        row.version += 1
        row.updated_by = user.id
    session.flush()
    old, new = audit.changes(audit.plain(dict(before)), audit.plain(found))
    audit.record(session, user=user, action="update", entity="exception_thresholds",
                 entity_id=row.id, season_id=season.id, before=old or None, after=new or None)
    return row


@transactional
def acknowledge(session: Session, user, season_id: uuid.UUID, *, kind: str, key: str,
                note: str) -> ExceptionAcknowledgement:
    """Acknowledge one open exception of a season with a note: a planner, a buyer or an admin
    (viewers only read). The exception's measure now is kept; it opens again when it measures
    worse (rules.is_worse). Acknowledging it again replaces the note and the measure. Raises
    ValidationFailed without a note, NotFound when the season has no such exception now."""
    require(user, Action.ACKNOWLEDGE)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": "Say why this exception may stand"})
    if len(note) > 500:
        raise ValidationFailed({"note": "A note is at most 500 characters"})
    if kind not in rules.KINDS:
        raise NotFound("No such kind of exception")
    season = lock_season(session, season_id)
    _require_watched(season)
    rule = queries.season_rules(session, season, limits=None, kinds=(kind,))[0]
    found = next((f for f in rule.found if f.key == key), None)
    if found is None:
        raise NotFound("This exception is no longer there: the figures changed since you "
                       "loaded the page")
    row = session.scalar(select(ExceptionAcknowledgement).where(
        ExceptionAcknowledgement.season_id == season.id,
        ExceptionAcknowledgement.kind == kind, ExceptionAcknowledgement.key == key))
    before = None
    if row is None:
        row = ExceptionAcknowledgement(season_id=season.id, kind=kind, key=key,
                                       value=found.figure, note=note,
                                       acknowledged_by=user.id)
        session.add(row)
    else:
        before = {"value": row.value, "note": row.note,
                  "acknowledged_by": str(row.acknowledged_by)}
        row.value, row.note, row.acknowledged_by = found.figure, note, user.id
    session.flush()
    audit.record(session, user=user, action="acknowledge", entity="exception",
                 entity_id=f"{kind}:{key}"[:64], season_id=season.id, before=before,
                 after={"kind": kind, "key": key, "what": found.what, "value": found.figure,
                        "note": note})
    return row


# The daily digest (issue 17, item 5)


@dataclass(frozen=True)
class Digest:
    """What a digest tells: the new open exceptions of each watched season (season code and
    name → Found list), to whom, and in words."""

    seasons: list
    recipients: list[str]
    text: str

    @property
    def count(self) -> int:
        return sum(len(found) for _, _, found in self.seasons)


def digest(session: Session) -> Digest:
    """The open exceptions no digest has mailed yet, in every watched season, for everyone
    who may acknowledge them (admins, planners, buyers). Reads only."""
    sent = {(e.season_id, e.kind, e.key) for e in session.scalars(select(DigestEntry))}
    seasons = []
    for season in queries.watched_seasons(session):
        found, _ = queries.find(session, season, limits=None)
        new = [f for f in queries.ordered(found)
               if f.is_open and (season.id, f.kind.code, f.key) not in sent]
        if new:
            seasons.append((season, season.season_code, new))
    recipients = emails_allowed(session, Action.ACKNOWLEDGE)
    lines = []
    for season, code, new in seasons:
        lines += ["", f"{season.name} ({code}): {len(new)} new — {mail.link(f'/exceptions/{code}')}"]
        lines += [f"  [{f.severity.value}] {f.kind.title}: {f.what} — {f.detail}" for f in new]
    total = sum(len(new) for _, _, new in seasons)
    text = (f"{total} new exception(s) since the last digest." + "\n".join(lines) + "\n"
            if total else "No new exceptions since the last digest.\n")
    return Digest(seasons, recipients, text)


@transactional
def record_digest(session: Session, sent: Digest) -> int:
    """Remember the exceptions of a digest that has been mailed: the next one leaves them
    out. The number recorded."""
    rows = [{"id": uuid.uuid4(), "season_id": season.id, "kind": f.kind.code, "key": f.key,
             "created_at": utcnow(), "updated_at": utcnow()}
            for season, _, new in sent.seasons for f in new]
    if rows:
        session.execute(insert(DigestEntry), rows)
    return len(rows)
