"""Purchasing screens of a season: POs against the OTB and the goods received (SPEC §5, §7)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..args import as_date, as_month, as_uuid
from ..auth.roles import Action
from ..auth.access import role_required
from ..errors import StaleVersion, ValidationFailed
from ..extensions import db
from ..forms import attach_errors, choices, submit
from ..htmx import redirect_after_write, render, render_fragment
from ..masterdata.services import descendant_ids
from ..masterdata.tree import leaf_categories
from ..paging import page_number
from ..planning.queries import cell_figures
from ..planning.queries import filter_choices
from ..seasons.services import get_season, require_editable
from ..seasons.workflow import Area, can_edit
from ..sorting import Sort
from ..templating import money
from ..values import month_start, months_between
from ..versions import cached
from . import queries, rules, services
from .forms import GRNForm, NewPOForm, POForm
from .models import POSource, POStatus, PurchaseOrder

bp = Blueprint("purchasing", __name__, url_prefix="/purchasing")


def _po_or_404(season, po_number: str) -> PurchaseOrder:
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == po_number,
                                                       PurchaseOrder.season_id == season.id))
    if po is None:
        abort(404)
    return po


def _po_filters():
    args = request.args
    category = as_uuid(args.get("category"))
    f = queries.POFilters(
        status=POStatus(args["status"]) if args.get("status") in {s.value for s in POStatus} else None,
        source=POSource(args["source"]) if args.get("source") in {s.value for s in POSource} else None,
        supplier=args.get("supplier", "").strip()[:200],
        number=args.get("number", "").strip()[:50],
        location_id=as_uuid(args.get("location")),
        category_ids=frozenset({category} | descendant_ids(db.session, category)) if category else None,
        month=as_month(args.get("month")),
        sort=queries.PO_SORTS.read(args),
    )
    clean = {k: v for k, v in {
        "status": f.status.value if f.status else "", "source": f.source.value if f.source else "",
        "supplier": f.supplier, "number": f.number, "location": str(f.location_id or ""),
        "category": str(category or ""), "month": f.month.strftime("%Y-%m") if f.month else "",
        **queries.PO_SORTS.query_args(f.sort),
    }.items() if v}
    return f, clean


@bp.get("/<code>/pos")
@login_required
def pos(code: str):
    """Purchase orders, filtered by status, source, supplier, location, category and delivery
    month, sorted by any column, paged, with the totals of all of them; each flagged when its
    OTB cell is over budget."""
    season = get_season(db.session, code)
    f, args = _po_filters()
    # The totals of the filtered POs, kept in the figure cache (the order is no filter).
    totals = cached(db.session, season.id, ("po totals", replace(f, sort=None)),
                    lambda: queries.po_totals(db.session, season.id, f))
    page = queries.po_page(db.session, season.id, f, page_number(request.args.get("page")),
                           current_app.config["PAGE_SIZE"], totals)
    return render("purchasing/pos.html", block="results", season=season, page=page, args=args,
                  totals=totals,
                  choices=filter_choices(db.session, season), statuses=list(POStatus), sources=list(POSource),
                  can_buy=can_edit(current_user, season, Area.PURCHASING))


def _po_form(season, form: POForm) -> POForm:
    form.location_id.choices = choices(
        [("", "Choose a location")] + [(str(l.id), f"{l.name} ({l.location_code})")
                                       for l in filter_choices(db.session, season)["locations"]])
    form.category_id.choices = choices(
        [("", "Choose a leaf category")] + [(str(c.id), f"{c.code} · {c.name}") for c in leaf_categories(db.session)])
    return form


def _po_fields(form: POForm) -> dict:
    return {"po_number": form.po_number.data, "location_id": form.location_id.data,
            "category_id": form.category_id.data, "po_value": form.po_value.data,
            "order_date": form.order_date.data, "delivery_date": form.delivery_date.data,
            "supplier": form.supplier.data, "source": form.source.data}


def _flash_over(result) -> None:
    if result.po.status is POStatus.AWAITING_RELEASE:
        flash(f"PO {result.po.po_number} saved awaiting release: it takes "
              f"{result.po.delivery_date:%Y-%m} over its budget by {money(result.over_otb_by)}, "
              "so it consumes nothing until a planner or an admin releases it.", "warning")
    elif result.over_otb_by:
        flash(f"PO {result.po.po_number} saved. It takes {result.po.delivery_date:%Y-%m} over OTB "
              f"by {money(result.over_otb_by)}.", "warning")
    else:
        flash(f"PO {result.po.po_number} saved.", "success")


def _po_submit(season, form, save, po=None):
    """Run the save; 422 with messages on the fields; 409 when the PO changed meanwhile."""
    if form.validate_on_submit():
        try:
            result = save()
        except ValidationFailed as exc:
            attach_errors(form, exc)
        except StaleVersion as exc:
            form.form_errors.append(exc.message)
            return render("purchasing/po_form.html", block="form", status_code=409,
                          season=season, form=form, po=po, figures=None)
        else:
            _flash_over(result)
            return redirect_after_write(url_for("purchasing.po_detail", code=season.season_code,
                                                po_number=result.po.po_number))
    return render("purchasing/po_form.html", block="form", status_code=422, season=season,
                  form=form, po=po, figures=None)


@bp.get("/<code>/pos/new")
@role_required(Action.EDIT_PURCHASING)
def po_new(code: str):
    """The form for a new PO, with the OTB of its cell shown while typing."""
    season = get_season(db.session, code)
    require_editable(season, Area.PURCHASING)
    return render("purchasing/po_form.html", season=season, form=_po_form(season, NewPOForm()),
                  po=None, figures=None)


@bp.post("/<code>/pos")
@role_required(Action.EDIT_PURCHASING)
def po_create(code: str):
    """Create a PO under the OTB policy (warn: saved and flagged; block: refused)."""
    season = get_season(db.session, code)
    form = _po_form(season, NewPOForm())
    return _po_submit(season, form, lambda: services.create_po(
        db.session, current_user, season.id, **_po_fields(form),
        release_reason=form.release_reason.data))


@bp.get("/<code>/pos/figures")
@login_required
def po_figures(code: str):
    """OTB, committed and remaining of the cell the typed PO falls in, before and after it."""
    season = get_season(db.session, code)
    args = request.args
    location_id, category_id = as_uuid(args.get("location_id")), as_uuid(args.get("category_id"))
    day = as_date(args.get("delivery_date")) or as_date(args.get("order_date"))
    figures, note = None, None
    if not (location_id and category_id and day):
        note = "Choose a location, a leaf category and a date to see the OTB of the cell."
    elif month_start(day) not in months_between(season.start_date, season.end_date):
        note = f"{day:%Y-%m} is not a month of this season."
    else:
        figures = cell_figures(db.session, season.id, location_id, category_id, month_start(day),
                               exclude_po=as_uuid(args.get("po")))
    value, value_error = None, None
    try:
        value = rules.checked_po_value(args.get("po_value"), required=False)
    except ValidationFailed as exc:
        value_error = exc.errors["po_value"]
    return render_fragment("purchasing/po_form.html", "figures", season=season, figures=figures,
                           note=note, value=value, value_error=value_error,
                           month=month_start(day) if day else None,
                           policy=current_app.config["KYROS_OTB_POLICY"])


@bp.get("/<code>/pos/<po_number>")
@login_required
def po_detail(code: str, po_number: str):
    """One PO: its figures, its cell's OTB, its GRNs, and receiving, cancelling, closing."""
    season = get_season(db.session, code)
    po = _po_or_404(season, po_number)
    received = sum((g.received_value for g in po.grns), Decimal("0"))
    figures = cell_figures(db.session, season.id, po.location_id, po.category_id,
                           month_start(po.delivery_date))
    grn_form = GRNForm(po_number=po.po_number, formdata=None)
    return render("purchasing/po_detail.html", season=season, po=po, received=received,
                  to_receive=rules.still_to_receive(po.status, po.po_value, received),
                  releases=queries.release_rows(db.session, po_id=po.id),
                  recorded=as_uuid(request.args.get("recorded")),
                  figures=figures, form=grn_form, can_buy=can_edit(current_user, season, Area.PURCHASING),
                  tolerance=current_app.config["KYROS_OVER_RECEIPT_TOLERANCE"])


@bp.get("/<code>/pos/<po_number>/edit")
@role_required(Action.EDIT_PURCHASING)
def po_edit(code: str, po_number: str):
    """The form to change a PO."""
    season = get_season(db.session, code)
    require_editable(season, Area.PURCHASING)
    po = _po_or_404(season, po_number)
    form = _po_form(season, POForm(obj=po, source=po.source.value, version=po.version))
    return render("purchasing/po_form.html", season=season, form=form, po=po, figures=None)


@bp.post("/<code>/pos/<po_number>")
@role_required(Action.EDIT_PURCHASING)
def po_update(code: str, po_number: str):
    """Save a PO, refused when it changed since it was loaded."""
    season = get_season(db.session, code)
    po = _po_or_404(season, po_number)
    form = _po_form(season, POForm())
    return _po_submit(season, form, lambda: services.update_po(
        db.session, current_user, po.id, expected_version=form.version.data,
        **_po_fields(form)), po=po)


def _po_step(code: str, po_number: str, step, done: str):
    """Move one PO on with `step` (its service), then back to the PO page."""
    season = get_season(db.session, code)
    po = _po_or_404(season, po_number)
    step(db.session, current_user, po.id)
    flash(f"PO {po_number} {done}.", "success")
    return redirect_after_write(url_for("purchasing.po_detail", code=season.season_code,
                                        po_number=po_number))


@bp.post("/<code>/pos/<po_number>/cancel")
@role_required(Action.EDIT_PURCHASING)
def po_cancel(code: str, po_number: str):
    """Cancel a PO without goods received; it stops consuming OTB."""
    return _po_step(code, po_number, services.cancel_po, "cancelled")


@bp.post("/<code>/pos/<po_number>/close")
@role_required(Action.EDIT_PURCHASING)
def po_close(code: str, po_number: str):
    """Short-close a partly received PO: what was not received stops consuming OTB."""
    return _po_step(code, po_number, services.close_po, "short-closed")


def _grn_list(season, number: str, sort: Sort, page: int):
    """A page of the GRN list and the totals of every GRN the search keeps (those cached)."""
    totals = cached(db.session, season.id, ("grn totals", number),
                    lambda: queries.grn_totals(db.session, season.id, number))
    return queries.grn_page(db.session, season.id, number, sort, page,
                            current_app.config["PAGE_SIZE"], totals), totals


def _grn_list_args(args) -> tuple[str, Sort, dict]:
    """The GRN list's search and sort from `args` (the query string, or the GRN form that
    carries them), and the cleaned arguments to repeat in links."""
    number = args.get("number", "").strip()[:50]
    sort = queries.GRN_SORTS.read(args)
    return number, sort, {**({"number": number} if number else {}),
                          **queries.GRN_SORTS.query_args(sort)}


@bp.get("/<code>/grns")
@login_required
def grns(code: str):
    """Goods received against the season's POs, searched by GRN or PO number, sorted by any
    column, paged, with the totals of all of them; a GRN just recorded is marked."""
    season = get_season(db.session, code)
    number, sort, args = _grn_list_args(request.args)
    page, totals = _grn_list(season, number, sort, page_number(request.args.get("page")))
    return render("purchasing/grns.html", block="results", season=season, page=page,
                  totals=totals, number=number, args=args,
                  recorded=as_uuid(request.args.get("recorded")),
                  form=GRNForm(formdata=None), can_buy=can_edit(current_user, season, Area.PURCHASING))


def _grn_recorded_url(season, grn, from_po: bool) -> str:
    """Where a GRN just recorded is shown, marked: its PO's page, or the page of the GRN list
    (searched and sorted as it was) that holds it; a search that leaves it out is dropped."""
    anchor = f"grn-{grn.id}"
    if from_po:
        return url_for("purchasing.po_detail", code=season.season_code,
                       po_number=grn.purchase_order.po_number, recorded=grn.id, _anchor=anchor)
    number, sort, args = _grn_list_args(request.form)
    per_page = current_app.config["PAGE_SIZE"]
    page = queries.grn_list_page(db.session, season.id, grn.id, number, sort, per_page)
    if page is None:
        args.pop("number", None)
        page = queries.grn_list_page(db.session, season.id, grn.id, "", sort, per_page)
    return url_for("purchasing.grns", code=season.season_code, **args,
                   **({"page": page} if page and page > 1 else {}), recorded=grn.id,
                   _anchor=anchor)


@bp.post("/<code>/grns")
@role_required(Action.EDIT_PURCHASING)
def grn_create(code: str):
    """Record goods received against a PO (from the PO page or the GRN list), then show it
    marked where the form was."""
    season = get_season(db.session, code)
    form = GRNForm()
    from_po = request.form.get("from") == "po"

    def save():
        return services.create_grn_for(db.session, current_user, season.id,
                                       po_number=form.po_number.data,
                                       grn_number=form.grn_number.data,
                                       grn_date=form.grn_date.data,
                                       received_value=form.received_value.data)

    template = "purchasing/po_detail.html" if from_po else "purchasing/grns.html"
    number, sort, args = _grn_list_args(request.form)
    context = {"season": season, "can_buy": can_edit(current_user, season, Area.PURCHASING),
               "number": number, "args": args, "recorded": None}
    if from_po:
        po = _po_or_404(season, (form.po_number.data or "").strip())
        received = sum((g.received_value for g in po.grns), Decimal("0"))
        context.update(po=po, received=received, figures=None,
                       to_receive=rules.still_to_receive(po.status, po.po_value, received),
                       tolerance=current_app.config["KYROS_OVER_RECEIPT_TOLERANCE"])
    else:
        page, totals = _grn_list(season, number, sort, 1)
        context.update(page=page, totals=totals)
    return submit(form, save, template=template,
                  success=lambda grn: _grn_recorded_url(season, grn, from_po),
                  default_field="po_number",
                  message=lambda g: f"GRN {g.grn_number} recorded; PO "
                                    f"{g.purchase_order.po_number} is now "
                                    f"{g.purchase_order.status.title.lower()}.", **context)
