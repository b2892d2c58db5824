"""What each upload kind reads and which rules it checks (SPEC §2, §6). A handler loads the
maps it needs once (codes, existing rows), checks one row at a time without a query per row,
sorts rows into new / updated / unchanged, and writes them set-based."""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal

import re
from abc import ABC, abstractmethod

from sqlalchemy import String, cast, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from ..clock import today
from .. import ids
from ..auth.roles import Action
from ..masterdata.models import Category, Cluster, Location, LocationType
from ..masterdata.tree import in_use, is_leaf
from ..modelbase import Money, utcnow
from ..planning import rules
from ..planning.budget import adjusted, adjustments_per_cell, joined
from ..planning.models import OTBPlan, RangeIntent, SeasonActual, SeasonPlan
from ..planning.otb import budget, committed_value, utilisation
from ..purchasing.models import GRNRecord, POStatus, PurchaseOrder
from ..purchasing.queries import committed_per_cell, received_per_po
from ..purchasing.rules import (GRN_DAYS_AHEAD, check_po_change, check_receipt,
                                check_received_total, over_otb, po_terms, receipt_allowance,
                                require_changeable, status_after_receipts)
from ..seasons.models import SeasonLocation
from ..seasons.workflow import Area
from ..templating import money
from ..values import months_between
from ..versions import SHARED, season_scope
from . import columns as file_columns
from ..bulk import insert_rows, update_rows
from .engine import RowError
from .models import UploadKind

ZERO = Decimal("0")
# Ids in one IN list of a set-based UPDATE.
IN_LIST = 5000


# Changed cells of an upload kept for its preview (the count covers them all).
CHANGES_SHOWN = 200


def _plain(value) -> str:
    """A stored or read value as the preview shows it: the plain number, blank for none."""
    return "" if value is None else str(value)


def _ids(rows) -> dict:
    return {code: id_ for code, id_ in rows}


class Handler(ABC):
    kind: UploadKind
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    key_label: str
    area: Area | None = None
    action = Action.EDIT_PLANNING
    # Rows with a version column (plans, OTB, range intent, POs): a confirm is refused when
    # any row the file names changed after the preview (row_versions).
    versioned = False

    def __init__(self, session: Session, season, user, *, file_format: str = "csv",
                 otb_policy: str = "warn", tolerance: Decimal = ZERO,
                 grn_days_ahead: int = GRN_DAYS_AHEAD):
        self.session, self.season, self.user = session, season, user
        # Read per row: plain values, not ORM attribute lookups.
        self.season_id = season.id if season is not None else None
        self.user_id = user.id
        self.file_format, self.otb_policy, self.tolerance = file_format, otb_policy, tolerance
        self.grn_days_ahead = grn_days_ahead
        self.now = utcnow()
        self.warnings: list[str] = []
        # The cells a file changes in stored rows: the first CHANGES_SHOWN, and how many.
        self.changes: list[dict] = []
        self.changed_cells = 0
        # The stored version of every row the file names, in file order (see row_versions).
        self._versions = hashlib.sha256() if self.versioned else None
        self.load()

    @classmethod
    def column_names(cls) -> list[str]:
        return [c.name for c in cls.columns]

    @classmethod
    def required(cls) -> list[str]:
        return [c.name for c in cls.columns if c.required]

    @property
    def blame(self) -> str:
        """The column a duplicate or a row-wide problem is reported against."""
        return self.key[0]

    # A rule's field that is not itself a column of the file → the column it is shown
    # against (e.g. the computed OTB → planned_sales).
    field_columns: dict[str, str] = {}

    def column_for(self, field_name: str) -> str:
        """The column of the file a rule's message about `field_name` is shown against."""
        if field_name in self.field_columns:
            return self.field_columns[field_name]
        if any(c.name == field_name for c in self.columns):
            return field_name
        return self.blame

    def key_of(self, values: dict) -> tuple:
        return tuple(values[k] for k in self.key)

    # True for a handler whose finish_checks can refuse rows (the engine then keeps every
    # row's outcome until the end).
    checks_whole_file = False

    def finish_checks(self) -> list[tuple[tuple, str, str]]:
        """Rules only the whole file can answer: (row key, column, message) per problem."""
        return []

    def load(self) -> None:
        """Read once what the checks need."""

    @abstractmethod
    def check(self, values: dict) -> dict:
        """The row's record for writing; RowError when a rule refuses it."""

    @abstractmethod
    def classify(self, record: dict) -> str:
        """'new', 'updated' or 'unchanged' against what is stored."""

    @property
    def scope(self) -> str:
        """The data version this file's rows move: its season's, or the shared one."""
        return season_scope(self.season_id) if self.season_id else SHARED

    def write(self, outcome: str, records: list[dict]) -> None:
        if outcome == "new":
            # A new row's id is drawn here, not when it is classified: a preview writes
            # nothing and needs none.
            for record in records:
                record["id"] = uuid.uuid4()
            insert_rows(self.session, self.model, records, scope=self.scope)
        else:
            update_rows(self.session, self.model, records, scope=self.scope)

    def after_write(self) -> None:
        """Work that needs every row written (e.g. PO statuses after GRNs)."""

    def _saw(self, old) -> None:
        """Note the stored version of the row a file row names (None: not stored yet)."""
        self._versions.update(b"-;" if old is None else f"{old.id}:{old.version};".encode())

    def row_versions(self) -> str | None:
        """A fingerprint of the stored versions of every row the file names, taken at preview
        and again at confirm: if they differ, someone changed those rows in between and the
        file would overwrite changes its preview never showed."""
        return self._versions.hexdigest() if self._versions is not None else None

    def summary(self) -> dict:
        """Extra facts for the preview page (warnings, changed cells, OTB impact)."""
        facts: dict = {"warnings": self.warnings}
        if self.changed_cells:
            facts.update(changes=self.changes, changed_cells=self.changed_cells)
        return facts

    # Shared lookups for season kinds.

    def _season_cells(self):
        """Maps: codes of the season's locations and of leaf categories."""
        sid = self.season.id
        self.locations = _ids(self.session.execute(
            select(Location.location_code, Location.id)
            .join(SeasonLocation, SeasonLocation.location_id == Location.id)
            .where(SeasonLocation.season_id == sid)))
        self.all_locations = set(self.session.scalars(select(Location.location_code)))
        self.leaves = _ids(self.session.execute(
            select(Category.code, Category.id).where(is_leaf())))
        self.all_categories = set(self.session.scalars(select(Category.code)))
        self.months = set(months_between(self.season.start_date, self.season.end_date))
        # Back from ids to the codes the file wrote, to name a changed row.
        self.location_codes = {id_: code for code, id_ in self.locations.items()}
        self.leaf_codes = {id_: code for code, id_ in self.leaves.items()}

    def _stored(self, model, keys: tuple[str, ...], fields) -> dict:
        """The season's stored rows of `model` (id, version and `fields`) by their `keys`
        columns, location and category ids as the maps above hold them. Read lean, as a
        re-import reads every row of the season twice (preview, confirm): the key ids as
        text matched to the maps' ids, not a new UUID per cell; on PostgreSQL the row's id
        as text (what row_versions hashes; one UUID is made only for a row written) and
        money as the NUMERIC(18, 2) it is stored as, already to the cent."""
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        known = _Ids()
        for id_ in (*self.locations.values(), *self.leaves.values()):
            known[str(id_)] = known[id_.hex] = id_
        columns = [cast(model.id, String) if postgresql else model.id, model.version]
        for name in fields:
            column = getattr(model, name)
            if postgresql and isinstance(column.type, Money):
                column = type_coerce(column, column.type.impl)
            columns.append(column.label(name))
        ids = sum(1 for k in keys if k.endswith("_id"))  # the id keys come first
        key_columns = [cast(getattr(model, k), String) for k in keys[:ids]]
        key_columns += [getattr(model, k) for k in keys[ids:]]
        width = len(keys)
        stored = {}
        for row in self.session.execute(select(*key_columns, *columns)
                                        .where(model.season_id == self.season.id)):
            key = (*map(known.__getitem__, row[:ids]), *row[ids:width])
            stored[key] = _Stored(row[width], row[width + 1], row[width + 2:], fields)
        return stored

    def _location(self, code: str) -> uuid.UUID:
        if code in self.locations:
            return self.locations[code]
        if code in self.all_locations:
            raise RowError("location_code", f"Location {code} is not assigned to season "
                           f"{self.season.season_code}")
        raise RowError("location_code", f"Unknown location code {code}")

    def _leaf(self, code: str) -> uuid.UUID:
        if code in self.leaves:
            return self.leaves[code]
        if code in self.all_categories:
            raise RowError("category_code", f"Category {code} has sub-categories; use a leaf "
                           "category")
        raise RowError("category_code", f"Unknown category code {code}")

    def _month(self, month: date) -> date:
        if month not in self.months:
            raise RowError("month", f"{month:%Y-%m} is not a month of season "
                           f"{self.season.season_code}")
        return month

    def _month_cell(self, v: dict) -> dict:
        """The ids of a location × leaf category × month row (OTB, actuals), each checked."""
        return {"location_id": self._location(v["location_code"]),
                "category_id": self._leaf(v["category_code"]), "month": self._month(v["month"])}

    def _month_cell_codes(self, r: dict) -> tuple[str, str, str]:
        """Such a row as its file names it, for the preview's changed cells."""
        return (self.location_codes[r["location_id"]], self.leaf_codes[r["category_id"]],
                f"{r['month']:%Y-%m}")

    def _classify_versioned(self, r: dict, old, fields, new_extra=None,
                            updated_extra=None, row_key=None) -> str:
        """For season rows with a version: new, unchanged when `fields` match what is
        stored, else updated with the version bumped. With `row_key` (the row as the file
        names it), each changed field is noted for the preview (see _note_changes)."""
        self._saw(old)
        if old is None:
            self._stamp(r, True).update(season_id=self.season_id, version=1,
                                        uploaded_by=self.user_id, **(new_extra or {}))
            return "new"
        changed = [f for f, value in zip(fields, old.values) if value != r[f]]
        if not changed:
            return "unchanged"
        if row_key is not None:
            self._note_changes(row_key, old, r, changed)
        self._stamp(r, False).update(id=old.uuid, version=old.version + 1,
                                     uploaded_by=self.user_id, **(updated_extra or {}))
        return "updated"

    def _note_changes(self, row_key, old, record: dict, fields) -> None:
        """Count every changed cell and keep the first CHANGES_SHOWN (row, column, old → new)
        for the preview: a 68,400-row file keeps a few hundred, not all of its changes."""
        for name in fields:
            self.changed_cells += 1
            if len(self.changes) < CHANGES_SHOWN:
                self.changes.append({"row": " × ".join(row_key()), "column": name,
                                     "old": _plain(getattr(old, name)),
                                     "new": _plain(record[name])})

    def _stamp(self, record: dict, new: bool) -> dict:
        if new:
            record["created_at"] = self.now  # and an id when written (write)
        record["updated_at"] = self.now
        return record


class _Ids(dict):
    """Stored ids as text → the maps' ids; a text no map holds (a location no longer in the
    season) stays text, which no file row can name."""

    def __missing__(self, text):
        return text


class _Stored:
    """A stored row as a handler compares a file row with it: its id (text on PostgreSQL),
    version and figures (`values`, in the order of `fields`; also by name)."""

    __slots__ = ("id", "version", "values", "fields")

    def __init__(self, id_, version, values, fields):
        self.id, self.version, self.values, self.fields = id_, version, values, fields

    @property
    def uuid(self) -> uuid.UUID:
        return self.id if isinstance(self.id, uuid.UUID) else uuid.UUID(self.id)

    def __getattr__(self, name):
        try:
            return self.values[self.fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


class PlansHandler(Handler):
    kind = UploadKind.PLANS
    versioned = True
    title = "Season plans"
    area = Area.PLANS
    model = SeasonPlan
    key = ("location_code", "category_code")
    key_label = "location × category"
    columns = file_columns.PLANS

    def load(self):
        self._season_cells()
        self.existing = self._stored(SeasonPlan, ("location_id", "category_id"),
                                     rules.PLAN_FIELDS)

    def check(self, v):
        location_id, category_id = self._location(v["location_code"]), self._leaf(v["category_code"])
        return {"location_id": location_id, "category_id": category_id, **rules.check_plan(v)}

    def classify(self, r):
        # A change clears approval (SPEC §2).
        return self._classify_versioned(
            r, self.existing.get((r["location_id"], r["category_id"])), rules.PLAN_FIELDS,
            new_extra={"approved": False},
            updated_extra={"approved": False, "approved_by": None, "approved_at": None},
            row_key=lambda: (self.location_codes[r["location_id"]],
                             self.leaf_codes[r["category_id"]]))


class _MonthCellHandler(Handler):
    """Versioned rows of a location × leaf category × month (OTB, actuals): the stored rows
    read once with their `fields`, and a count of rows kept with a warning (`negative`)."""
    versioned = True
    key = ("location_code", "category_code", "month")
    key_label = "location × category × month"
    fields: tuple[str, ...]
    negative_warning: str  # "{n} row(s) …"

    def load(self):
        self._season_cells()
        self.existing = self._stored(self.model, ("location_id", "category_id", "month"),
                                     self.fields)
        self.negative = 0

    def classify(self, r):
        return self._classify_versioned(
            r, self.existing.get((r["location_id"], r["category_id"], r["month"])),
            self.fields, row_key=lambda: self._month_cell_codes(r))

    def summary(self):
        if self.negative:
            self.warnings.append(self.negative_warning.format(n=self.negative))
        return super().summary()


class OTBHandler(_MonthCellHandler):
    kind = UploadKind.OTB
    title = "OTB plan"
    area = Area.OTB
    model = OTBPlan
    fields = rules.OTB_INPUTS
    negative_warning = "{n} row(s) give a negative OTB (over-bought); they are kept and flagged"
    # The computed OTB is shown against the first figure of the row.
    field_columns = {"": "planned_sales"}
    columns = file_columns.OTB

    def check(self, v):
        record = self._month_cell(v)
        inputs, otb = rules.check_otb(v)
        if otb < 0:
            self.negative += 1
        record.update(inputs)
        return record


class ActualsHandler(_MonthCellHandler):
    """What the shops sold and held, by location × leaf category × month (issue 16): in
    season only, months that have started, checked by rules.check_actuals."""
    kind = UploadKind.ACTUALS
    title = "Actuals"
    area = Area.ACTUALS
    model = SeasonActual
    fields = rules.ACTUAL_FIELDS
    negative_warning = ("{n} row(s) have negative net sales (more returned than sold); they "
                        "are kept and flagged")
    columns = file_columns.ACTUALS

    def load(self):
        super().load()
        self.today = today()

    def check(self, v):
        record = self._month_cell(v)
        record.update(rules.check_actuals(v, record["month"], self.today))
        if record["net_sales"] < 0:
            self.negative += 1
        return record


class RangeHandler(Handler):
    kind = UploadKind.RANGE
    versioned = True
    title = "Range intent"
    area = Area.RANGE
    model = RangeIntent
    key = ("category_code",)
    key_label = "category"
    # The bands' sum is shown against the first band.
    field_columns = {"price_band_mix": "price_band_low"}
    columns = file_columns.RANGE

    def load(self):
        self._season_cells()
        self.existing = self._stored(RangeIntent, ("category_id",), rules.RANGE_FIELDS)

    def check(self, v):
        category_id = self._leaf(v["category_code"])
        return {"category_id": category_id, **rules.check_range(
            v["core_percent"], v["fashion_percent"],
            {b: v[f"price_band_{b}"] for b in rules.PRICE_BANDS})}

    def classify(self, r):
        return self._classify_versioned(r, self.existing.get((r["category_id"],)),
                                        rules.RANGE_FIELDS)


class _PurchasingHandler(Handler):
    """POs and GRNs: bought under the purchasing area, checked by purchasing/rules.py."""
    area = Area.PURCHASING
    action = Action.EDIT_PURCHASING
    # A PO's status (and a GRN's PO) is shown against the PO number of the row.
    field_columns = {"status": "po_number", "po_id": "po_number"}


class POHandler(_PurchasingHandler):
    kind = UploadKind.POS
    versioned = True
    title = "Purchase orders"
    model = PurchaseOrder
    key = ("po_number",)
    key_label = "PO number"
    columns = file_columns.POS

    def load(self):
        self._season_cells()
        sid = self.season.id
        # Cells are keyed by codes, as the file names them: 68,000 OTB cells read as text
        # cost a fraction of the same cells read as UUIDs, and hash faster per row.
        received = received_per_po()
        self.existing = {r.po_number: r for r in self.session.execute(
            select(PurchaseOrder.id, PurchaseOrder.po_number,
                   (PurchaseOrder.season_id == sid).label("in_season"),
                   Location.location_code, Category.code.label("category_code"),
                   PurchaseOrder.supplier, PurchaseOrder.order_date, PurchaseOrder.delivery_date,
                   PurchaseOrder.po_value, PurchaseOrder.source, PurchaseOrder.status,
                   PurchaseOrder.version,
                   type_coerce(func.coalesce(received.c.received, 0), Money).label("received"))
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .outerjoin(received, received.c.po_id == PurchaseOrder.id))}
        # Each cell's OTB and, apart, its approved adjustments (issue 17; only the cells that
        # have some): its budget is OTB + adjustments. Approved moves touch OTB rows only.
        adj = adjustments_per_cell(sid)
        self.otb, self.adjustments = {}, {}
        for loc, cat, month, otb, moved in self.session.execute(
                select(Location.location_code, Category.code, OTBPlan.month,
                       OTBPlan.approved_spend_limit, adjusted(adj))
                .join(Location, Location.id == OTBPlan.location_id)
                .join(Category, Category.id == OTBPlan.category_id)
                .outerjoin(adj, joined(adj, OTBPlan))
                .where(OTBPlan.season_id == sid)):
            self.otb[(loc, cat, month)] = otb
            if moved:
                self.adjustments[(loc, cat, month)] = moved
        cells = committed_per_cell(sid)
        self.before = dict(((loc, cat, month), committed)
                           for loc, cat, month, committed in self.session.execute(
            select(Location.location_code, Category.code, cells.c.month,
                   type_coerce(cells.c.committed, Money))
            .join(Location, Location.id == cells.c.location_id)
            .join(Category, Category.id == cells.c.category_id)))
        self.running = dict(self.before)
        self.season_code = self.season.season_code
        self.same_as_stored: set[str] = set()
        self.over_rows: list[str] = []
        self.over_cells: set = set()

    def check(self, v):
        number = v["po_number"]
        old = self.existing.get(number)
        if old is not None and not old.in_season:
            raise RowError("po_number", f"PO number {number} is used in another season")
        location_code, category_code = v["location_code"], v["category_code"]
        location_id, category_id = self._location(location_code), self._leaf(category_code)
        value = v["po_value"]
        delivery, source = po_terms(value, v["order_date"], v["delivery_date"],
                                    v["source"] or self.file_format, months=self.months,
                                    season_code=self.season_code)
        record = {"po_number": number, "location_id": location_id, "category_id": category_id,
                  "supplier": v["supplier"], "order_date": v["order_date"],
                  "delivery_date": delivery, "po_value": value, "source": source}
        if old is not None:
            # Codes stand for the ids here: a code names exactly one location or category.
            if (old.location_code, old.category_code, old.supplier, old.order_date,
                    old.delivery_date, old.po_value, old.source) == (
                    location_code, category_code, record["supplier"], record["order_date"],
                    delivery, value, source):
                self.same_as_stored.add(number)
                return record
            require_changeable(number, old.status)
            check_po_change(value, old.received)
        self._apply_to_otb(record, old, (location_code, category_code, delivery.replace(day=1)))
        return record

    def _apply_to_otb(self, record, old, cell) -> None:
        """The running committed of the cell, counting this file's rows so far (SPEC §5)."""
        value, before = record["po_value"], self.running.get(cell, ZERO)
        if old is not None:
            # A stored PO the file changes leaves its old cell (which may be this one).
            old_cell = (old.location_code, old.category_code, old.delivery_date.replace(day=1))
            released = committed_value(old.status, old.po_value, old.received)
            if old_cell == cell:
                before -= released
        over_by = over_otb(self.otb.get(cell, ZERO), before, value, month=cell[2],
                           policy=self.otb_policy, in_file=True,
                           adjustments=self.adjustments.get(cell, ZERO))
        if old is not None:
            self.running[old_cell] = self.running.get(old_cell, ZERO) - released
        self.running[cell] = before + value
        if over_by is not None:
            self.over_cells.add(cell)
            if len(self.over_rows) < 20:
                self.over_rows.append(f"PO {record['po_number']} takes {cell[2]:%Y-%m} over OTB "
                                      f"by {money(over_by)}")

    def classify(self, r):
        old = self.existing.get(r["po_number"])
        self._saw(old)
        if old is None:
            self._stamp(r, True).update(season_id=self.season_id, status=POStatus.OPEN,
                                        version=1, created_by=self.user_id)
            return "new"
        if r["po_number"] in self.same_as_stored:
            return "unchanged"
        self._stamp(r, False).update(id=old.id, version=old.version + 1)
        return "updated"

    def summary(self):
        months = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])
        for (loc, cat, month), otb in self.otb.items():
            months[month][0] += otb
        for cell, value in self.adjustments.items():
            months[cell[2]][1] += value
        for cell, value in self.before.items():
            months[cell[2]][2] += value
        for cell, value in self.running.items():
            months[cell[2]][3] += value
        impact = []
        for month in sorted(months):
            otb, moved, before, after = months[month]
            month_budget = budget(otb, moved)
            impact.append({"month": month.isoformat(), "otb": str(otb),
                           "adjustments": str(moved), "before": str(before),
                           "after": str(after),
                           "utilisation_before": str(utilisation(before, month_budget)),
                           "utilisation_after": str(utilisation(after, month_budget))})
        if self.over_cells:
            self.warnings.append(f"{len(self.over_cells)} OTB cell(s) would go over OTB")
            self.warnings.extend(self.over_rows)
            if self.otb_policy == "warn":
                self.warnings.append("Under the 'block' OTB policy these rows would be refused")
        return {"warnings": self.warnings, "impact": impact}


class GRNHandler(_PurchasingHandler):
    kind = UploadKind.GRNS
    title = "Goods received"
    model = GRNRecord
    key = ("grn_number",)
    key_label = "GRN number"
    columns = file_columns.GRNS

    def load(self):
        sid = self.season.id
        self.pos = {r.po_number: r for r in self.session.execute(
            select(PurchaseOrder.id, PurchaseOrder.po_number, PurchaseOrder.status,
                   PurchaseOrder.po_value, PurchaseOrder.order_date,
                   (PurchaseOrder.season_id == sid).label("in_season")))}
        self.existing = {r.grn_number: r for r in self.session.execute(
            select(GRNRecord.id, GRNRecord.grn_number, GRNRecord.po_id, GRNRecord.grn_date,
                   GRNRecord.received_value))}
        self.received = dict(self.session.execute(
            select(GRNRecord.po_id, type_coerce(func.sum(GRNRecord.received_value), Money))
            .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
            .where(PurchaseOrder.season_id == sid).group_by(GRNRecord.po_id)).all())
        self.touched: set = set()
        self.allowance = receipt_allowance(self.tolerance)
        self.today = today()

    def check(self, v):
        po = self.pos.get(v["po_number"])
        if po is None or not po.in_season:
            raise RowError("po_number", f"No PO {v['po_number']} in season {self.season.season_code}")
        old = self.existing.get(v["grn_number"])
        record = {"grn_number": v["grn_number"], "po_id": po.id, "grn_date": v["grn_date"],
                  "received_value": v["received_value"]}
        if old is not None and (old.po_id, old.grn_date, old.received_value) == (
                po.id, v["grn_date"], v["received_value"]):
            return record
        value = v["received_value"]
        check_receipt(po.po_number, po.status, po.order_date, v["grn_date"], value,
                      today=self.today, days_ahead=self.grn_days_ahead)
        so_far = self.received.get(po.id, ZERO)
        if old is not None and old.po_id == po.id:
            so_far -= old.received_value  # the stored receipt this row replaces
        check_received_total(po.po_number, po.po_value, so_far, value, self.allowance,
                             in_file=True)
        if old is not None:
            self.received[old.po_id] = self.received.get(old.po_id, ZERO) - old.received_value
            self.touched.add(old.po_id)
        self.received[po.id] = self.received.get(po.id, ZERO) + value
        self.touched.add(po.id)
        return record

    def classify(self, r):
        old = self.existing.get(r["grn_number"])
        if old is None:
            self._stamp(r, True).update(created_by=self.user_id)
            return "new"
        if (old.po_id, old.grn_date, old.received_value) == (r["po_id"], r["grn_date"],
                                                            r["received_value"]):
            return "unchanged"
        self._stamp(r, False).update(id=old.id)
        return "updated"

    def after_write(self):
        """PO statuses follow the receipts: open → partially received → received."""
        changes = defaultdict(list)
        for po in self.pos.values():
            if po.id not in self.touched:
                continue
            status = status_after_receipts(po.status, po.po_value,
                                           self.received.get(po.id, ZERO))
            if status is not po.status:
                changes[status].append(po.id)
        # One UPDATE per new status (in slices), not one per PO.
        for status, po_ids in changes.items():
            for start in range(0, len(po_ids), IN_LIST):
                self.session.execute(
                    update(PurchaseOrder)
                    .where(PurchaseOrder.id.in_(po_ids[start:start + IN_LIST]))
                    .values(status=status, updated_at=self.now)
                    .execution_options(synchronize_session=False, version_scope=self.scope))


class LocationsHandler(Handler):
    kind = UploadKind.LOCATIONS
    title = "Locations"
    action = Action.EDIT_MASTERDATA
    model = Location
    key = ("key",)
    key_label = "location code (or name, without a code)"
    columns = file_columns.LOCATIONS
    FIELDS = ("name", "type", "cluster_id", "address", "city", "country")

    blame = "name"

    def key_of(self, values):
        return (values["location_code"] or f"name:{values['name'].lower()}",)

    def load(self):
        rows = self.session.execute(select(
            Location.id, Location.location_code, Location.name, Location.type, Location.cluster_id,
            Location.address, Location.city, Location.country)).all()
        self.by_code = {r.location_code: r for r in rows}
        self.by_name = {r.name.lower(): r for r in rows}
        self.clusters = {name.lower(): id_ for name, id_ in
                         self.session.execute(select(Cluster.name, Cluster.id))}
        self.new_clusters: dict[str, str] = {}
        self.taken = set(self.by_code)

    def check(self, v):
        if v["type"] not in {t.value for t in LocationType}:
            raise RowError("type", "Type must be store or warehouse")
        code = v["location_code"]
        if code and (len(code) != 16 or not code.isalnum() or not code.isascii()):
            raise RowError("location_code", "Location code must be 16 characters A–Z and 0–9")
        cluster_id = None
        if v["cluster"]:
            name = v["cluster"].lower()
            if name not in self.clusters:
                self.new_clusters.setdefault(name, v["cluster"])
                self.clusters[name] = uuid.uuid4()
            cluster_id = self.clusters[name]
        return {"location_code": code, "name": v["name"], "type": LocationType(v["type"]),
                "cluster_id": cluster_id, "address": v["address"], "city": v["city"],
                "country": v["country"]}

    def classify(self, r):
        old = self.by_code.get(r["location_code"]) if r["location_code"] else \
            self.by_name.get(r["name"].lower())
        if old is None:
            code = r["location_code"] or ids.unique_code(ids.location_code, self.taken.__contains__)
            self.taken.add(code)
            self._stamp(r, True).update(location_code=code, is_active=True)
            return "new"
        r["location_code"] = old.location_code
        if all(getattr(old, f) == r[f] for f in self.FIELDS):
            return "unchanged"
        self._stamp(r, False).update(id=old.id)
        return "updated"

    def write(self, outcome, records):
        if self.new_clusters:
            self.session.execute(insert(Cluster), [
                {"id": self.clusters[key], "name": name, "created_at": self.now,
                 "updated_at": self.now} for key, name in self.new_clusters.items()])
            self.new_clusters = {}
        super().write(outcome, records)

    def summary(self):
        if self.new_clusters:
            self.warnings.append("New clusters will be created: "
                                 + ", ".join(sorted(self.new_clusters.values()))
                                 + ". Check the spelling before you confirm.")
        return super().summary()


class CategoriesHandler(Handler):
    kind = UploadKind.CATEGORIES
    title = "Categories"
    action = Action.EDIT_MASTERDATA
    model = Category
    key = ("code",)
    key_label = "category code"
    columns = file_columns.CATEGORIES

    def load(self):
        rows = self.session.execute(select(Category.id, Category.code, Category.name,
                                           Category.parent_id, Category.description)).all()
        self.existing = {r.code: r for r in rows}
        self.code_of = {r.id: r.code for r in rows}
        self.parent = {r.code: self.code_of.get(r.parent_id) for r in rows}
        self.in_file: dict[str, str | None] = {}
        self.with_rows = set(self.session.scalars(select(Category.code).where(in_use())))
        self.buffer: list[dict] = []

    def check(self, v):
        code, parent = v["code"], v["parent_code"]
        if not re.fullmatch(r"[A-Z0-9_-]{1,50}", code):
            raise RowError("code", "Code must be upper-case letters, digits, '-' and '_'")
        if parent == code:
            raise RowError("parent_code", "A category cannot be its own parent")
        if parent and parent in self.with_rows:
            raise RowError("parent_code", f"{parent} has plans, OTB, range intent or POs, so it "
                           "must stay a leaf category")
        self.in_file[code] = parent
        return {"code": code, "name": v["name"], "parent_code": parent,
                "description": v["description"]}

    def classify(self, r):
        old = self.existing.get(r["code"])
        if old is None:
            return "new"
        if (old.name, self.parent.get(r["code"]), old.description) == (
                r["name"], r["parent_code"], r["description"]):
            return "unchanged"
        return "updated"

    def write(self, outcome, records):
        self.buffer.extend((outcome, r) for r in records)

    def after_write(self):
        """New categories with their parents, parents first; then the changed ones."""
        ids_ = {code: r.id for code, r in self.existing.items()}
        new = [r for outcome, r in self.buffer if outcome == "new"]
        for r in new:
            ids_[r["code"]] = uuid.uuid4()
        parent = {**self.parent, **self.in_file}

        def depth(code: str) -> int:  # finish_checks has ruled out cycles
            n = 0
            while code := parent.get(code):
                n += 1
            return n

        new.sort(key=lambda r: depth(r["code"]))
        insert_rows(self.session, Category, scope=SHARED, records=[
            {"id": ids_[r["code"]], "code": r["code"], "name": r["name"],
             "description": r["description"],
             "parent_id": ids_[r["parent_code"]] if r["parent_code"] else None,
             "created_at": self.now, "updated_at": self.now} for r in new])
        changed = [{"id": ids_[r["code"]], "name": r["name"], "description": r["description"],
                    "parent_id": ids_[r["parent_code"]] if r["parent_code"] else None,
                    "updated_at": self.now} for outcome, r in self.buffer if outcome == "updated"]
        if changed:
            self.session.execute(update(Category), changed)

    checks_whole_file = True

    def finish_checks(self):
        """Rows whose parent is neither stored nor in the file, or that close a cycle."""
        parent = dict(self.parent)
        parent.update(self.in_file)
        problems = []
        for code, parent_code in self.in_file.items():
            if parent_code and parent_code not in parent:
                problems.append(((code,), "parent_code", f"Unknown parent code {parent_code}"))
                continue
            seen, walk = {code}, parent_code
            while walk:
                if walk in seen:
                    problems.append(((code,), "parent_code", "The parent codes form a cycle"))
                    break
                seen.add(walk)
                walk = parent.get(walk)
        return problems


HANDLERS = {h.kind: h for h in (LocationsHandler, CategoriesHandler, PlansHandler, OTBHandler,
                                RangeHandler, POHandler, GRNHandler, ActualsHandler)}
