"""Two people decide one OTB adjustment at the same moment (issue 17): one decision wins, the
other is told who decided, and the move's lines are written at most once. PostgreSQL only
(row locks); two threads meet at a barrier, many times."""
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.auth.models import User
from kyros_web.errors import Conflict
from kyros_web.extensions import db
from kyros_web.models import OTBAdjustmentLine
from kyros_web.planning import services
from kyros_web.planning.adjustments import Scope
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL

ROUNDS = 10

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="row locks are PostgreSQL's; set KYROS_TEST_DATABASE_URL (CI does)")


def test_one_of_two_simultaneous_decisions_wins(app, make, session):
    loc = make.location()
    give, take = make.category(), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, locations=[loc], leaves=[give, take])
    for leaf in (give, take):
        make.otb_row(season, loc, leaf, date(2026, 3, 1), planned_sales="1000",
                     planned_closing_stock="0", opening_stock="0", on_order="0")
    advance_season(session, make.admin, season.id)
    requester = make.user("planner")
    deciders = [make.user("planner").id, make.user("admin").id]
    wins = {"approved": 0, "rejected": 0}
    for n in range(ROUNDS):
        row = services.request_adjustment(
            session, requester, season.id, amount=D("10.00"),
            source=Scope(category_id=give.id), target=Scope(category_id=take.id), reason="r")
        row_id = row.id  # read here: the threads must not load it through this session
        start = threading.Barrier(2)
        outcomes, errors = [], []

        def decide(user_id, approve):
            with app.app_context():
                try:
                    start.wait()
                    services.decide_adjustment(db.session, db.session.get(User, user_id),
                                               row_id, approve=approve, note=f"round {n}")
                    outcomes.append("approved" if approve else "rejected")
                except Conflict as told:
                    outcomes.append(str(told))
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        # Who approves and who rejects swaps each round.
        threads = [threading.Thread(target=decide, args=(deciders[0], n % 2 == 0)),
                   threading.Thread(target=decide, args=(deciders[1], n % 2 == 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        won = [o for o in outcomes if o in wins]
        told = [o for o in outcomes if o not in wins]
        assert len(won) == 1 and len(told) == 1, outcomes
        assert told[0].startswith(f"Request #{n + 1} was {won[0]} by ")
        wins[won[0]] += 1
        session.expire_all()
        session.refresh(row)
        assert row.status == won[0]
        lines = session.scalar(select(func.count()).select_from(OTBAdjustmentLine)
                               .where(OTBAdjustmentLine.adjustment_id == row.id))
        assert lines == (2 if won[0] == "approved" else 0)
    assert sum(wins.values()) == ROUNDS
