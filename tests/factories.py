"""Test factories: objects made through the services, so they obey every rule."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from kyros_web.auth.services import create_user
from kyros_web.masterdata.services import create_category, create_cluster, create_location
from kyros_web.planning.services import approve_plans, upsert_otb, upsert_plan, upsert_range
from kyros_web.seasons.services import advance_season, assign_locations, create_season
from kyros_web.seasons.workflow import SeasonStatus

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session
        self._admin = None

    @property
    def admin(self):
        if self._admin is None:
            self._admin = self.user("admin")
        return self._admin

    def user(self, role="planner", email=None, password=PASSWORD, **kw):
        n = next(_seq)
        return create_user(self.session, None, email=email or f"{role}{n}@example.com",
                           role=role, password=password, full_name=f"{role.title()} {n}", **kw)

    def cluster(self, name=None):
        return create_cluster(self.session, self.admin, name=name or f"Region {next(_seq):02d}")

    def location(self, name=None, type="store", cluster=None, **kw):
        cluster = cluster or self.cluster()
        return create_location(self.session, self.admin, name=name or f"Store {next(_seq):03d}",
                               type=type, cluster_id=cluster.id, **kw)

    def category(self, code=None, parent=None, name=None):
        code = code or f"C{next(_seq):04d}"
        return create_category(self.session, self.admin, code=code, name=name or code,
                               parent_id=parent.id if parent else None)

    def season(self, status=SeasonStatus.CREATED, *, start=date(2026, 2, 1),
               end=date(2026, 4, 30), name=None, locations=None, leaves=None):
        """A season walked through the workflow to `status` with just enough data."""
        status = SeasonStatus(status)
        season = create_season(self.session, self.admin, name=name or f"Season {next(_seq)}",
                               start_date=start, end_date=end)
        season.test_locations = locations or []
        season.test_leaves = leaves or []
        while season.status is not status:
            self.fill(season)
            advance_season(self.session, self.admin, season.id)
        return season

    def fill(self, season):
        """Add the data the gate of the season's current status asks for."""
        admin, status = self.admin, season.status
        if status is SeasonStatus.CREATED:
            season.test_locations = season.test_locations or [self.location()]
            assign_locations(self.session, admin, season.id,
                             [loc.id for loc in season.test_locations])
        elif status is SeasonStatus.LOCATIONS_DEFINED:
            season.test_leaves = season.test_leaves or [self.category()]
            for loc in season.test_locations:
                for leaf in season.test_leaves:
                    row = upsert_plan(self.session, admin, season.id, location_id=loc.id,
                                      category_id=leaf.id, planned_sales=Decimal("3000"),
                                      planned_margin=Decimal("40")).row
                    approve_plans(self.session, admin, season.id, [row.id])
        elif status is SeasonStatus.PLAN_UPLOADED:
            for loc in season.test_locations:
                for leaf in season.test_leaves:
                    self.otb_row(season, loc, leaf, season.start_date.replace(day=1),
                                 planned_sales="3000", planned_closing_stock="1000",
                                 opening_stock="1000", on_order="0")
        elif status is SeasonStatus.OTB_UPLOADED:
            for leaf in season.test_leaves:
                upsert_range(self.session, admin, season.id, category_id=leaf.id,
                             core_percent="60", fashion_percent="40",
                             price_bands={"low": "30", "mid": "50", "high": "20"})

    def otb_rows(self, season, rows):
        """OTB rows from (location, leaf, month, (sales, markdowns, closing stock, opening
        stock, on order)) tuples, the order of the SPEC §5 formula."""
        for location, leaf, month, inputs in rows:
            self.otb_row(season, location, leaf, month, **dict(zip(
                ("planned_sales", "planned_markdowns", "planned_closing_stock", "opening_stock",
                 "on_order"), inputs)))

    def otb_row(self, season, location, leaf, month, **inputs):
        inputs.setdefault("planned_markdowns", "0")
        return upsert_otb(self.session, self.admin, season.id, location_id=location.id,
                          category_id=leaf.id, month=month, **inputs).row
