"""Master data pages: clusters, locations and the category tree (SPEC §2, §7)."""
from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..auth.roles import Action, may
from ..auth.access import role_required
from ..extensions import db
from ..forms import FormPage, choices
from ..htmx import redirect_after_write, render
from ..paging import page_number, paginate_objects
from . import queries, services
from .forms import CategoryForm, ClusterForm, LocationForm, NewCategoryForm, NewLocationForm
from .models import Category, Cluster, Location, LocationType
from .tree import category_choices, category_tree

bp = Blueprint("masterdata", __name__, url_prefix="/masterdata")


def _can_edit() -> bool:
    return may(current_user.role, Action.EDIT_MASTERDATA)


def _get_or_404(model, object_id: uuid.UUID):
    return db.get_or_404(model, object_id)


CLUSTER = FormPage("masterdata/cluster_form.html", "cluster", "masterdata.clusters",
                   label=lambda c: c.name)
LOCATION = FormPage("masterdata/location_form.html", "location", "masterdata.locations",
                    label=lambda loc: loc.name)
CATEGORY = FormPage("masterdata/category_form.html", "category", "masterdata.categories",
                    label=lambda c: c.code)


def _delete(page: FormPage, model, object_id: uuid.UUID, delete):
    """Delete one record through its service, then back to its list."""
    record = _get_or_404(model, object_id)
    label = page.label(record)
    delete(db.session, current_user, record.id)
    flash(f"{page.name.capitalize()} {label} deleted.", "success")
    return redirect_after_write(url_for(page.index))


# Clusters

@bp.get("/clusters")
@login_required
def clusters():
    """Clusters with how many locations each holds, paged."""
    page = paginate_objects(db.session, select(Cluster).order_by(func.lower(Cluster.name)),
                            page_number(request.args.get("page")), current_app.config["PAGE_SIZE"])
    counts = dict(db.session.execute(
        select(Location.cluster_id, func.count(Location.id))
        .where(Location.cluster_id.in_([c.id for c in page.items]))
        .group_by(Location.cluster_id)).all())
    return render("masterdata/clusters.html", page=page, counts=counts, can_edit=_can_edit())


@bp.get("/clusters/new")
@role_required(Action.EDIT_MASTERDATA)
def cluster_new():
    """The form for a new cluster."""
    return CLUSTER.show(ClusterForm())


@bp.post("/clusters")
@role_required(Action.EDIT_MASTERDATA)
def cluster_create():
    """Create a cluster."""
    form = ClusterForm()
    return CLUSTER.save(form, lambda: services.create_cluster(
        db.session, current_user, name=form.name.data, description=form.description.data),
        done="created", default_field="name")


@bp.get("/clusters/<uuid:cluster_id>/edit")
@role_required(Action.EDIT_MASTERDATA)
def cluster_edit(cluster_id):
    """The form to rename or describe a cluster."""
    cluster = _get_or_404(Cluster, cluster_id)
    return CLUSTER.show(ClusterForm(obj=cluster), cluster)


@bp.post("/clusters/<uuid:cluster_id>")
@role_required(Action.EDIT_MASTERDATA)
def cluster_update(cluster_id):
    """Save a cluster's name and description."""
    cluster = _get_or_404(Cluster, cluster_id)
    form = ClusterForm()
    return CLUSTER.save(form, lambda: services.update_cluster(
        db.session, current_user, cluster.id, name=form.name.data,
        description=form.description.data), cluster, done="saved", default_field="name")


@bp.post("/clusters/<uuid:cluster_id>/delete")
@role_required(Action.EDIT_MASTERDATA)
def cluster_delete(cluster_id):
    """Delete a cluster without locations."""
    return _delete(CLUSTER, Cluster, cluster_id, services.delete_cluster)


# Locations

def _cluster_choices():
    return [("", "(no cluster)")] + [
        (str(c.id), c.name) for c in db.session.scalars(select(Cluster).order_by(func.lower(Cluster.name)))]


def _location_form(form):
    """A location form offering every cluster."""
    form.cluster_id.choices = choices(_cluster_choices())
    return form


@bp.get("/locations")
@login_required
def locations():
    """Locations filtered by cluster, type and active flag, searched by name or code, paged."""
    args = {"q": request.args.get("q", "").strip(), "cluster": request.args.get("cluster", ""),
            "type": request.args.get("type", ""), "active": request.args.get("active", "")}
    cluster_id = None
    try:
        cluster_id = uuid.UUID(args["cluster"]) if args["cluster"] else None
    except ValueError:
        args["cluster"] = ""
    if args["type"] not in {t.value for t in LocationType}:
        args["type"] = ""
    if args["active"] not in ("yes", "no"):
        args["active"] = ""
    stmt = queries.locations(q=args["q"], cluster_id=cluster_id, type=args["type"] or None,
                             active={"yes": True, "no": False}.get(args["active"]))
    page = paginate_objects(db.session, stmt, page_number(request.args.get("page")),
                            current_app.config["PAGE_SIZE"])
    return render("masterdata/locations.html", block="results", page=page, args=args,
                  clusters=_cluster_choices()[1:], types=list(LocationType), can_edit=_can_edit())


@bp.get("/locations/new")
@role_required(Action.EDIT_MASTERDATA)
def location_new():
    """The form for a new location."""
    return LOCATION.show(_location_form(NewLocationForm()))


@bp.post("/locations")
@role_required(Action.EDIT_MASTERDATA)
def location_create():
    """Create a location; its code is generated when left empty."""
    form = _location_form(NewLocationForm())
    return LOCATION.save(form, lambda: services.create_location(
        db.session, current_user, name=form.name.data, type=form.type.data,
        cluster_id=form.cluster_id.data, location_code=form.location_code.data,
        address=form.address.data, city=form.city.data, country=form.country.data),
        done="created", label=lambda loc: f"{loc.name} ({loc.location_code})")


@bp.get("/locations/<uuid:location_id>/edit")
@role_required(Action.EDIT_MASTERDATA)
def location_edit(location_id):
    """The form to change a location."""
    location = _get_or_404(Location, location_id)
    return LOCATION.show(_location_form(LocationForm(obj=location, type=location.type.value)),
                         location)


@bp.post("/locations/<uuid:location_id>")
@role_required(Action.EDIT_MASTERDATA)
def location_update(location_id):
    """Save a location's details."""
    location = _get_or_404(Location, location_id)
    form = _location_form(LocationForm())
    return LOCATION.save(form, lambda: services.update_location(
        db.session, current_user, location.id, name=form.name.data, type=form.type.data,
        cluster_id=form.cluster_id.data, address=form.address.data, city=form.city.data,
        country=form.country.data), location, done="saved")


@bp.post("/locations/<uuid:location_id>/active")
@role_required(Action.EDIT_MASTERDATA)
def location_set_active(location_id):
    """Activate or deactivate a location."""
    location = _get_or_404(Location, location_id)
    active = request.form.get("active") == "yes"
    services.set_location_active(db.session, current_user, location.id, active)
    flash(f"Location {location.name} {'activated' if active else 'deactivated'}.", "success")
    return redirect_after_write(url_for("masterdata.locations"))


@bp.post("/locations/<uuid:location_id>/delete")
@role_required(Action.EDIT_MASTERDATA)
def location_delete(location_id):
    """Delete a location no season refers to."""
    return _delete(LOCATION, Location, location_id, services.delete_location)


# Categories

def _category_form(form, category: Category | None = None):
    """A category form offering every place in the tree, but under the category itself."""
    form.parent_id.choices = choices(category_choices(db.session, exclude=category and category.id))
    return form


@bp.get("/categories")
@login_required
def categories():
    """The category tree, every branch expandable."""
    return render("masterdata/categories.html", roots=category_tree(db.session),
                  can_edit=_can_edit())


@bp.get("/categories/new")
@role_required(Action.EDIT_MASTERDATA)
def category_new():
    """The form for a new category, under ?parent= when given."""
    form = _category_form(NewCategoryForm())
    parent = request.args.get("parent")
    if parent and not form.is_submitted():
        form.parent_id.data = form.parent_id.coerce(parent)
    return CATEGORY.show(form)


@bp.post("/categories")
@role_required(Action.EDIT_MASTERDATA)
def category_create():
    """Create a category."""
    form = _category_form(NewCategoryForm())
    return CATEGORY.save(form, lambda: services.create_category(
        db.session, current_user, code=form.code.data, name=form.name.data,
        parent_id=form.parent_id.data, description=form.description.data), done="created")


@bp.get("/categories/<uuid:category_id>/edit")
@role_required(Action.EDIT_MASTERDATA)
def category_edit(category_id):
    """The form to rename or move a category."""
    category = _get_or_404(Category, category_id)
    return CATEGORY.show(_category_form(CategoryForm(obj=category), category), category)


@bp.post("/categories/<uuid:category_id>")
@role_required(Action.EDIT_MASTERDATA)
def category_update(category_id):
    """Save a category's name, description and place in the tree."""
    category = _get_or_404(Category, category_id)
    form = _category_form(CategoryForm(), category)
    return CATEGORY.save(form, lambda: services.update_category(
        db.session, current_user, category.id, name=form.name.data,
        parent_id=form.parent_id.data, description=form.description.data), category,
        done="saved")


@bp.post("/categories/<uuid:category_id>/delete")
@role_required(Action.EDIT_MASTERDATA)
def category_delete(category_id):
    """Delete a category without sub-categories or season data."""
    return _delete(CATEGORY, Category, category_id, services.delete_category)
