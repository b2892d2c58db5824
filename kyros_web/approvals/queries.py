"""What waits for someone's decision, counted for the navigation (issue 17)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..planning.models import OTBAdjustment
from ..purchasing.models import PORelease
from ..seasons.models import Season
from ..seasons.workflow import Area, statuses_editing


def waiting_count(session: Session, user) -> int:
    """How many requests wait for `user`'s decision: moves of open to buy
    (planning.queries.adjustment_rows) and releases of POs over their budget
    (purchasing.queries.release_rows), never their own, in seasons still open to them. One
    statement."""
    a, r = OTBAdjustment, PORelease
    moves = (select(func.count()).select_from(a).join(Season, Season.id == a.season_id)
             .where(a.status == "pending", a.requested_by != user.id,
                    Season.status.in_(statuses_editing(Area.ADJUSTMENTS))).scalar_subquery())
    releases = (select(func.count()).select_from(r).join(Season, Season.id == r.season_id)
                .where(r.status == "pending", r.requested_by != user.id,
                       Season.status.in_(statuses_editing(Area.PURCHASING))).scalar_subquery())
    return session.scalar(select(moves + releases)) or 0
