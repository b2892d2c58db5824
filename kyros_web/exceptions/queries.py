"""Read-only SQL of the exceptions inbox (issue 17, item 4): one set-based statement per rule
over a whole season, on the owners of each figure (planning/budget.py for budget = OTB +
adjustments, purchasing/queries.py for committed and received, planning/queries.py for the
stock chain and the plan reconciliation, planning/inseason.py and kpis.py for sell-through).
Each rule returns the worst `limit` exceptions and how many there are; acknowledgements are
applied on top (`inbox`)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import func, literal, select, type_coerce
from sqlalchemy.orm import Session

from ..auth.models import User
from ..clock import today
from ..masterdata.models import Category, Location
from ..modelbase import Money
from ..planning import inseason
from ..planning.budget import adjustments_per_cell, budget, joined
from ..planning.kpis import Period, Sums
from ..planning.models import OTBPlan
from ..planning.otb import remaining, utilisation
from ..planning.queries import plan_reconciliation, stock_chain
from ..purchasing.models import POStatus, PurchaseOrder
from ..purchasing.queries import committed_per_cell, received_per_po
from ..seasons.models import Season
from ..seasons.workflow import SeasonStatus
from ..templating import money
from ..values import months_between
from . import rules
from .models import ExceptionAcknowledgement, ExceptionThresholds

ZERO = Decimal("0")
# The worst of each kind a page reads per season; "N more" says how many it leaves out.
SHOWN_PER_KIND = 200
# The statuses whose seasons the inbox watches: plans and OTB exist, buying goes on.
WATCHED = (SeasonStatus.PLAN_UPLOADED, SeasonStatus.OTB_UPLOADED, SeasonStatus.RANGE_UPLOADED)


@dataclass(frozen=True)
class Found:
    """One exception as a rule finds it; `ack` is its acknowledgement, if any."""

    kind: rules.Kind
    key: str
    what: str  # the cell, category or PO in words
    figure: Decimal  # the kind's measure (rules.Kind.measure)
    detail: str  # the figures behind it
    link: tuple  # (endpoint, url_for arguments) of the page where it is fixed
    season_code: str = ""
    season_name: str = ""
    ack: object = None
    acknowledged_by: str = ""

    @property
    def severity(self) -> rules.Severity:
        return self.kind.severity

    @property
    def is_open(self) -> bool:
        """Open unless acknowledged and no worse than when it was."""
        return self.ack is None or rules.is_worse(self.kind, self.ack.value, self.figure)

    @property
    def reopened(self) -> bool:
        return self.ack is not None and self.is_open

    @property
    def anchor(self) -> str:
        """A stable id for the page's row."""
        return "exc-" + uuid.uuid5(uuid.NAMESPACE_URL, f"{self.season_code}|{self.kind.code}|"
                                   f"{self.key}").hex[:16]


@dataclass
class Rule:
    """What one rule found in a season: the worst `found` and how many there are."""

    kind: rules.Kind
    found: list = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.found)


def thresholds(session: Session, season_id: uuid.UUID) -> dict:
    """The season's thresholds: its stored row, else rules.DEFAULTS."""
    row = session.scalar(select(ExceptionThresholds)
                         .where(ExceptionThresholds.season_id == season_id))
    if row is None:
        return dict(rules.DEFAULTS)
    return {name: getattr(row, name) for name in rules.THRESHOLD_NAMES}


def _scaled(value: Decimal) -> int:
    """A threshold in hundredths, for an exact comparison in integers (money is in cents on
    SQLite: SQL never divides it)."""
    return int(Decimal(value) * 100)


def _counted(stmt, limit):
    """The statement with the number of its rows beside each (a window count) and the first
    `limit` of them."""
    stmt = stmt.add_columns(func.count().over().label("total"))
    return stmt.limit(limit) if limit is not None else stmt


def _cell_words(r) -> str:
    return f"{r.location_name} ({r.location_code}) × {r.category_code} × {r.month:%b %Y}"


def _cell_link(season, r) -> tuple:
    return ("planning.otb_cell", {"code": season.season_code, "location_code": r.location_code,
                                  "category_code": r.category_code,
                                  "month": f"{r.month:%Y-%m}"})


def _rule(kind, rows) -> Rule:
    rows = list(rows)
    return Rule(kind, [], rows[0].total if rows else 0), rows


def over_budget(session: Session, season, limit=SHOWN_PER_KIND) -> Rule:
    """Cells whose committed passes their budget (OTB + adjustments; a cell POs commit to
    without an OTB row has a budget of 0), the most over first."""
    com = committed_per_cell(season.id)
    adj = adjustments_per_cell(season.id)
    committed = type_coerce(com.c.committed, Money)
    cell_budget = budget(OTBPlan.approved_spend_limit, adj)
    over = type_coerce(committed - cell_budget, Money)
    stmt = (select(Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), com.c.month,
                   committed.label("committed"), cell_budget.label("budget"),
                   over.label("over"))
            .select_from(com)
            .join(Location, Location.id == com.c.location_id)
            .join(Category, Category.id == com.c.category_id)
            .outerjoin(OTBPlan, (OTBPlan.season_id == season.id)
                       & (OTBPlan.location_id == com.c.location_id)
                       & (OTBPlan.category_id == com.c.category_id)
                       & (OTBPlan.month == com.c.month))
            .outerjoin(adj, joined(adj, com))
            .where(com.c.committed > 0, committed > cell_budget)
            .order_by(over.desc(), Location.location_code, Category.code, com.c.month))
    rule, rows = _rule(rules.OVER_BUDGET, session.execute(_counted(stmt, limit)))
    rule.found = [Found(rules.OVER_BUDGET, rules.cell_key(r.location_code, r.category_code,
                                                          r.month),
                        _cell_words(r), r.over,
                        f"committed {money(r.committed)} against a budget of {money(r.budget)}",
                        _cell_link(season, r)) for r in rows]
    return rule


def low_open_to_buy(session: Session, season, percent: Decimal,
                    limit=SHOWN_PER_KIND) -> Rule:
    """Cells within their budget with less than `percent` of it left (remaining = OTB +
    adjustments − committed), the least left first; cells with no budget are not measured."""
    com = committed_per_cell(season.id)
    adj = adjustments_per_cell(season.id)
    cell_budget = budget(OTBPlan.approved_spend_limit, adj)
    committed = type_coerce(func.coalesce(com.c.committed, 0), Money)
    left = type_coerce(cell_budget - committed, Money)
    stmt = (select(Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), OTBPlan.month,
                   cell_budget.label("budget"), committed.label("committed"))
            .join(Location, Location.id == OTBPlan.location_id)
            .join(Category, Category.id == OTBPlan.category_id)
            .outerjoin(com, (com.c.location_id == OTBPlan.location_id)
                       & (com.c.category_id == OTBPlan.category_id)
                       & (com.c.month == OTBPlan.month))
            .outerjoin(adj, joined(adj, OTBPlan))
            .where(OTBPlan.season_id == season.id, cell_budget > 0, left >= 0,
                   left * 10000 < cell_budget * _scaled(percent))
            # The least left first: remaining ÷ budget, compared without dividing money.
            .order_by((left * 10000 / cell_budget).asc(), Location.location_code,
                      Category.code, OTBPlan.month))
    rule, rows = _rule(rules.LOW_OPEN_TO_BUY, session.execute(_counted(stmt, limit)))
    found = []
    for r in rows:
        left_now = remaining(r.budget, r.committed)
        found.append(Found(rules.LOW_OPEN_TO_BUY,
                           rules.cell_key(r.location_code, r.category_code, r.month),
                           _cell_words(r), rules.percent_of(left_now, r.budget),
                           f"{money(left_now)} left of a budget of {money(r.budget)}",
                           _cell_link(season, r)))
    rule.found = sorted(found, key=lambda f: f.figure)
    return rule


def under_used(session: Session, season, percent: Decimal, on: date,
               limit=SHOWN_PER_KIND) -> Rule:
    """From the season's half-way date, leaf categories whose POs commit less than `percent`
    of their season's budget (every location and month), the least used first; nothing
    before that date, nor before buying opens (range uploaded)."""
    if (season.status is not SeasonStatus.RANGE_UPLOADED
            or on < rules.half_way(season.start_date, season.end_date)):
        return Rule(rules.UNDER_USED)
    adj = adjustments_per_cell(season.id)
    budgets = (select(OTBPlan.category_id,
                      func.sum(budget(OTBPlan.approved_spend_limit, adj)).label("budget"))
               .outerjoin(adj, joined(adj, OTBPlan))
               .where(OTBPlan.season_id == season.id)
               .group_by(OTBPlan.category_id).subquery("budgets"))
    com = committed_per_cell(season.id)
    used = (select(com.c.category_id, func.sum(com.c.committed).label("committed"))
            .group_by(com.c.category_id).subquery("used"))
    category_budget = type_coerce(budgets.c.budget, Money)
    committed = type_coerce(func.coalesce(used.c.committed, 0), Money)
    stmt = (select(Category.code, Category.name, Category.id, category_budget.label("budget"),
                   committed.label("committed"))
            .select_from(budgets)
            .join(Category, Category.id == budgets.c.category_id)
            .outerjoin(used, used.c.category_id == budgets.c.category_id)
            .where(category_budget > 0,
                   committed * 10000 < category_budget * _scaled(percent))
            .order_by((committed * 10000 / category_budget).asc(), Category.code))
    rule, rows = _rule(rules.UNDER_USED, session.execute(_counted(stmt, limit)))
    found = [Found(rules.UNDER_USED, r.code, f"{r.name} ({r.code})",
                   utilisation(r.committed, r.budget).value.quantize(Decimal("0.01")),
                   f"committed {money(r.committed)} of a season budget of {money(r.budget)}",
                   ("planning.otb", {"code": season.season_code, "category": str(r.id)}))
             for r in rows]
    rule.found = sorted(found, key=lambda f: f.figure)
    return rule


def _po_words(r) -> str:
    return f"PO {r.po_number}: {r.location_name} ({r.location_code}) × {r.category_code}"


def _po_link(season, r) -> tuple:
    return ("purchasing.po_detail", {"code": season.season_code, "po_number": r.po_number})


def _pos(season, *columns):
    got = received_per_po(select(PurchaseOrder.id).where(PurchaseOrder.season_id == season.id))
    received = type_coerce(func.coalesce(got.c.received, 0), Money)
    return (select(PurchaseOrder.po_number, PurchaseOrder.po_value, PurchaseOrder.delivery_date,
                   Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), received.label("received"), *columns)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .outerjoin(got, got.c.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.season_id == season.id)), received


def po_overdue(session: Session, season, on: date, limit=SHOWN_PER_KIND) -> Rule:
    """Open and partly received POs whose delivery date has passed, the longest overdue
    first. Their measure is what is still to come (value − received), not the days late:
    the days grow every day, and an acknowledged PO would open again each morning."""
    stmt, _ = _pos(season)
    stmt = (stmt.where(PurchaseOrder.status.in_((POStatus.OPEN, POStatus.PARTIALLY_RECEIVED)),
                       PurchaseOrder.delivery_date < on)
            .order_by(PurchaseOrder.delivery_date, PurchaseOrder.po_number))
    rule, rows = _rule(rules.PO_OVERDUE, session.execute(_counted(stmt, limit)))
    rule.found = [Found(rules.PO_OVERDUE, r.po_number, _po_words(r), r.po_value - r.received,
                        f"due {r.delivery_date:%d %b %Y}, {(on - r.delivery_date).days} days "
                        f"late; {money(r.received)} of {money(r.po_value)} received",
                        _po_link(season, r)) for r in rows]
    return rule


def short_closed(session: Session, season, percent: Decimal, limit=SHOWN_PER_KIND) -> Rule:
    """Short-closed POs with more than `percent` of their value never received, the most
    undelivered first."""
    stmt, received = _pos(season)
    short = type_coerce(PurchaseOrder.po_value - received, Money)
    stmt = (stmt.where(PurchaseOrder.status == POStatus.CLOSED,
                       short * 10000 > PurchaseOrder.po_value * _scaled(percent))
            .order_by((short * 10000 / PurchaseOrder.po_value).desc(), PurchaseOrder.po_number))
    rule, rows = _rule(rules.SHORT_CLOSED, session.execute(_counted(stmt, limit)))
    found = [Found(rules.SHORT_CLOSED, r.po_number, _po_words(r),
                   rules.percent_of(r.po_value - r.received, r.po_value),
                   f"{money(r.received)} of {money(r.po_value)} received before it was closed",
                   _po_link(season, r)) for r in rows]
    rule.found = sorted(found, key=lambda f: -f.figure)
    return rule


def stock_breaks(session: Session, season, limit=SHOWN_PER_KIND) -> Rule:
    """OTB rows whose opening stock is not the previous month's closing stock of the same
    cell, the largest difference first."""
    chained = stock_chain(season.id)
    prev = type_coerce(chained.c.prev_closing, Money)
    gap = type_coerce(func.abs(OTBPlan.opening_stock - chained.c.prev_closing), Money)
    stmt = (select(Location.id.label("location_id"), Location.location_code,
                   Location.name.label("location_name"), Category.id.label("category_id"),
                   Category.code.label("category_code"), OTBPlan.month, OTBPlan.opening_stock,
                   prev.label("prev_closing"), gap.label("gap"))
            .join(chained, chained.c.id == OTBPlan.id)
            .join(Location, Location.id == OTBPlan.location_id)
            .join(Category, Category.id == OTBPlan.category_id)
            .where(OTBPlan.season_id == season.id, chained.c.prev_closing.is_not(None),
                   chained.c.prev_closing != OTBPlan.opening_stock)
            .order_by(gap.desc(), Location.location_code, Category.code, OTBPlan.month))
    rule, rows = _rule(rules.STOCK_CHAIN, session.execute(_counted(stmt, limit)))
    rule.found = [Found(rules.STOCK_CHAIN, rules.cell_key(r.location_code, r.category_code,
                                                          r.month),
                        _cell_words(r), r.gap,
                        f"opens with {money(r.opening_stock)}; the month before closed with "
                        f"{money(r.prev_closing)}",
                        ("planning.otb", {"code": season.season_code, "flag": "chain",
                                          "location": str(r.location_id),
                                          "category": str(r.category_id),
                                          "month": f"{r.month:%Y-%m}"}))
                  for r in rows]
    return rule


def plan_gaps(session: Session, season, limit=SHOWN_PER_KIND) -> Rule:
    """Locations × categories whose OTB planned sales of the season differ from the plan's by
    more than 1 % (SPEC §3), the largest gap first."""
    recon = plan_reconciliation(season.id)
    plan = type_coerce(recon.c.plan, Money)
    otb = type_coerce(recon.c.otb, Money)
    gap = type_coerce(func.abs(recon.c.otb - recon.c.plan), Money)
    stmt = (select(Location.id.label("location_id"), Location.location_code,
                   Location.name.label("location_name"), Category.id.label("category_id"),
                   Category.code.label("category_code"), plan.label("plan"), otb.label("otb"),
                   gap.label("gap"))
            .select_from(recon)
            .join(Location, Location.id == recon.c.location_id)
            .join(Category, Category.id == recon.c.category_id)
            .where(recon.c.mismatch)
            .order_by(gap.desc(), Location.location_code, Category.code))
    rule, rows = _rule(rules.PLAN_GAP, session.execute(_counted(stmt, limit)))
    rule.found = [Found(rules.PLAN_GAP, rules.pair_key(r.location_code, r.category_code),
                        f"{r.location_name} ({r.location_code}) × {r.category_code}", r.gap,
                        f"plan {money(r.plan)}, OTB planned sales {money(r.otb)}",
                        ("planning.otb", {"code": season.season_code, "flag": "plan",
                                          "location": str(r.location_id),
                                          "category": str(r.category_id)}))
                  for r in rows]
    return rule


def sell_through(session: Session, season, points: Decimal, limit=SHOWN_PER_KIND) -> Rule:
    """With actuals, leaf categories whose sell-through to date is more than `points`
    percentage points below the plan's sell-through of the same cells and months
    (kpis.Period), the furthest below first. One statement: the season's sums per category ×
    month (planning/inseason.py sums_by), and one for the categories' names."""
    months = months_between(season.start_date, season.end_date)
    by_category: dict = {}
    for row in inseason.sums_by(session, season, locations=False):
        by_category.setdefault(row.id, {})[row.month] = row.sums
    scored = []
    for category_id, monthly in by_category.items():
        done = [m for m in months if m in monthly and monthly[m].actual_cells]
        if not done:
            continue
        period = Period([(m, monthly[m]) for m in done], [])
        actual, planned = period.sell_through.value, period.planned_sell_through.value
        if actual is None or planned is None:
            continue
        below = (planned - actual).quantize(Decimal("0.01"))
        if below > points:
            scored.append((category_id, below, actual, planned))
    rule = Rule(rules.SELL_THROUGH, [], len(scored))
    if not scored:
        return rule
    scored.sort(key=lambda s: -s[1])
    scored = scored[:limit] if limit is not None else scored
    names = {c.id: c for c in session.scalars(
        select(Category).where(Category.id.in_([s[0] for s in scored])))}
    rule.found = [Found(rules.SELL_THROUGH, names[cid].code,
                        f"{names[cid].name} ({names[cid].code})", below,
                        f"sell-through to date {actual:.1f} % against {planned:.1f} % planned",
                        ("analytics.report", {"code": season.season_code,
                                              "slug": "in-season", "by": "category"}))
                  for cid, below, actual, planned in scored]
    return rule


def season_rules(session: Session, season, limits=SHOWN_PER_KIND, on: date | None = None,
                 values: dict | None = None, kinds=None) -> list[Rule]:
    """Every rule (or those of `kinds`) on one season with its thresholds (`values`, else the
    season's), today by the app's clock unless `on` says otherwise."""
    on = on or today()
    t = values or thresholds(session, season.id)
    runners = {
        "over_budget": lambda: over_budget(session, season, limits),
        "low_open_to_buy": lambda: low_open_to_buy(session, season, t["low_otb_percent"],
                                                   limits),
        "under_used": lambda: under_used(session, season, t["under_used_percent"], on, limits),
        "po_overdue": lambda: po_overdue(session, season, on, limits),
        "stock_chain": lambda: stock_breaks(session, season, limits),
        "plan_gap": lambda: plan_gaps(session, season, limits),
        "short_closed": lambda: short_closed(session, season, t["short_closed_percent"],
                                             limits),
        "sell_through": lambda: sell_through(session, season, t["sell_through_points"],
                                             limits),
    }
    found = [runners[code]() for code in rules.KINDS if kinds is None or code in kinds]
    for rule in found:
        rule.found = [replace(f, season_code=season.season_code, season_name=season.name)
                      for f in rule.found]
    return found


def acknowledgements(session: Session, season_ids) -> dict:
    """(season code, kind, key) → (acknowledgement, who) of the seasons: one statement."""
    if not season_ids:
        return {}
    rows = session.execute(
        select(ExceptionAcknowledgement, Season.season_code, User.email)
        .join(Season, Season.id == ExceptionAcknowledgement.season_id)
        .join(User, User.id == ExceptionAcknowledgement.acknowledged_by)
        .where(ExceptionAcknowledgement.season_id.in_(season_ids))).all()
    return {(code, a.kind, a.key): (a, email) for a, code, email in rows}


def with_acknowledgements(rule_lists: list[Rule], acks: dict) -> list[Found]:
    """The exceptions of the rules, each with its acknowledgement (if any)."""
    out = []
    for rule in rule_lists:
        for f in rule.found:
            ack = acks.get((f.season_code, f.kind.code, f.key))
            out.append(replace(f, ack=ack[0], acknowledged_by=ack[1]) if ack else f)
    return out


def watched_seasons(session: Session, code: str | None = None) -> list:
    """The seasons the inbox reads (plan uploaded to range uploaded), by code; one season
    when `code` names one of them."""
    stmt = select(Season).where(Season.status.in_(WATCHED)).order_by(Season.start_date,
                                                                    Season.season_code)
    if code:
        stmt = stmt.where(Season.season_code == code.upper())
    return list(session.scalars(stmt))


def find(session: Session, season, acks: dict | None = None, limits=SHOWN_PER_KIND,
         on: date | None = None) -> tuple[list[Found], list[Rule]]:
    """One season's exceptions with their acknowledgements, in the inbox's order (highest
    severity first, then each rule's worst first), and the rules (for "N more")."""
    found_rules = season_rules(session, season, limits, on)
    if acks is None:
        acks = acknowledgements(session, [season.id])
    return with_acknowledgements(found_rules, acks), found_rules


def ordered(found: list[Found]) -> list[Found]:
    """Highest severity first; within one, the order of the rules and of their rows."""
    return sorted(found, key=lambda f: f.severity.rank)
