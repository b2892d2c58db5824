"""Master data through the JSON API (issue 18): locations, clusters and the category tree, read
through masterdata/queries.py and written through masterdata/services.py. A `{location_id}` is
the location's id or its location_code, a `{category_id}` the category's id or its code, a
`{cluster_id}` the cluster's id or its name. None of them has a version column: the ETag is a
digest of the stored fields, compared under a row lock in the writing transaction."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from ..auth.roles import Action
from ..errors import ValidationFailed
from ..extensions import db
from ..masterdata import queries, services
from ..masterdata.models import Category, Cluster, Location, LocationType
from ..masterdata.tree import category_tree
from . import bulkwrites as bulk, core

blp = core.blueprint("Master data", "Locations, clusters and the category tree")

bulk.route(blp, "/locations/bulk", "locations", "Locations")
bulk.route(blp, "/categories/bulk", "categories", "Categories")

TYPES = [t.value for t in LocationType]


def _one_or_other(data: dict, id_field: str, name_field: str, find) -> dict:
    """`id_field` from the body, or the id of the row `name_field` names (null: none)."""
    if name_field not in data:
        return data
    data = dict(data)
    name = data.pop(name_field)
    if id_field in data:
        raise ValidationFailed({name_field: f"Give {id_field} or {name_field}, not both"})
    data[id_field] = find(name).id if name else None
    return data


# Locations ---------------------------------------------------------------------------------

def location_tag(location: Location) -> str:
    """A location's ETag: a digest of its stored fields."""
    return core.digest_tag(*(getattr(location, f) for f in services.LOCATION_FIELDS))


def _cluster_named(name: str) -> Cluster:
    cluster = services.find_cluster(db.session, name)
    if cluster is None:
        raise ValidationFailed({"cluster": f"No cluster is named {name!r}"})
    return cluster


class LocationSchema(Schema):
    id = fields.UUID(dump_only=True)
    location_code = fields.String()
    name = fields.String()
    type = fields.String(metadata={"enum": TYPES})
    cluster_id = fields.UUID(allow_none=True)
    cluster = fields.String(attribute="cluster.name", allow_none=True, dump_default=None,
                            metadata={"description": "The cluster's name"})
    address = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    is_active = fields.Boolean()
    created_at = core.Timestamp()
    updated_at = core.Timestamp()


class LocationDetailsSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    type = fields.String(validate=validate.OneOf(TYPES))
    cluster_id = fields.UUID(allow_none=True)
    cluster = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "The cluster by name, instead of cluster_id"})
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    city = fields.String(allow_none=True, validate=validate.Length(max=100))
    country = fields.String(allow_none=True, validate=validate.Length(max=100))


class LocationCreateSchema(LocationDetailsSchema):
    location_code = fields.String(validate=validate.Length(max=16), metadata={
        "description": "16 characters A–Z and 0–9; generated when not given"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(TYPES))


class LocationPatchSchema(LocationDetailsSchema):
    is_active = fields.Boolean(metadata={
        "description": "Activate or deactivate; an inactive location cannot join a season"})


class LocationWriteSchema(LocationPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(TYPES))


class LocationListArgs(core.Paging):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the name or location_code"})
    type = fields.String(validate=validate.OneOf(TYPES))
    cluster_id = fields.UUID()
    is_active = fields.Boolean()


@blp.route("/locations")
class Locations(MethodView):
    @blp.arguments(LocationListArgs, location="query")
    @blp.response(200, LocationSchema(many=True))
    def get(self, args):
        """Locations by name, filtered as on the locations page: part of the name or code,
        type, cluster and active flag."""
        stmt = queries.locations(q=args.get("q"), cluster_id=args.get("cluster_id"),
                                 type=args.get("type"), active=args.get("is_active"))
        return core.page(stmt.options(selectinload(Location.cluster)), args)

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(LocationCreateSchema)
    @blp.response(201, LocationSchema)
    def post(self, data):
        """Create a location (active; its code generated when not given)."""
        data = _one_or_other(data, "cluster_id", "cluster", _cluster_named)
        location = services.create_location(db.session, core.user(), **data)
        core.set_etag(location_tag(location))
        return location


@blp.route("/locations/<location_id>")
class LocationItem(MethodView):
    @blp.response(200, LocationSchema)
    def get(self, location_id):
        """One location, by id or location_code, with its ETag."""
        location = queries.location_by_key(db.session, location_id)
        core.set_etag(location_tag(location))
        return location

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(LocationWriteSchema)
    @blp.response(200, LocationSchema)
    def put(self, data, location_id):
        """Replace a location's details (the code is fixed; fields left out are emptied,
        is_active left out stays); needs If-Match."""
        values = {"cluster_id": None, "address": None, "city": None, "country": None}
        return _update_location(location_id, data, values)

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(LocationPatchSchema)
    @blp.response(200, LocationSchema)
    def patch(self, data, location_id):
        """Change some of a location's details, or only `is_active` to activate or deactivate
        it; needs If-Match."""
        return _update_location(location_id, data, {})

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.response(204)
    def delete(self, location_id):
        """Delete a location no season refers to (409 otherwise: deactivate it instead)."""
        location = queries.location_by_key(db.session, location_id)
        services.delete_location(db.session, core.user(), location.id)


def _update_location(location_id: str, data: dict, blanks: dict) -> Location:
    location = queries.location_by_key(db.session, location_id)
    locked = core.locked_matching(Location, location.id, location_tag, "location")
    data = _one_or_other(data, "cluster_id", "cluster", _cluster_named)
    if set(data) == {"is_active"}:
        location = services.set_location_active(db.session, core.user(), locked.id,
                                                data["is_active"])
    else:
        values = {"name": locked.name, "type": locked.type.value,
                  "cluster_id": locked.cluster_id, "address": locked.address,
                  "city": locked.city, "country": locked.country, **blanks, **data}
        location = services.update_location(db.session, core.user(), locked.id, **values)
    core.set_etag(location_tag(location))
    return location


# Clusters ----------------------------------------------------------------------------------

def cluster_tag(cluster: Cluster) -> str:
    """A cluster's ETag: a digest of its stored fields."""
    return core.digest_tag(*(getattr(cluster, f) for f in services.CLUSTER_FIELDS))


class ClusterSchema(Schema):
    id = fields.UUID(attribute="Cluster.id")
    name = fields.String(attribute="Cluster.name")
    description = fields.String(attribute="Cluster.description", allow_none=True)
    location_count = fields.Integer(metadata={"description": "How many locations it holds"})
    created_at = core.Timestamp(attribute="Cluster.created_at")
    updated_at = core.Timestamp(attribute="Cluster.updated_at")


class ClusterPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ClusterWriteSchema(ClusterPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


def _cluster_row(cluster: Cluster):
    core.set_etag(cluster_tag(cluster))
    return db.session.execute(queries.clusters(cluster_id=cluster.id)).one()


@blp.route("/clusters")
class Clusters(MethodView):
    @blp.arguments(core.Paging, location="query")
    @blp.response(200, ClusterSchema(many=True))
    def get(self, args):
        """Clusters by name, with how many locations each holds."""
        return core.rows_page(queries.clusters(), args)

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(ClusterWriteSchema)
    @blp.response(201, ClusterSchema)
    def post(self, data):
        """Create a cluster; names are unique regardless of case (409 otherwise)."""
        return _cluster_row(services.create_cluster(db.session, core.user(), **data))


@blp.route("/clusters/<cluster_id>")
class ClusterItem(MethodView):
    @blp.response(200, ClusterSchema)
    def get(self, cluster_id):
        """One cluster, by id or name, with its ETag."""
        return _cluster_row(queries.cluster_by_key(db.session, cluster_id))

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(ClusterWriteSchema)
    @blp.response(200, ClusterSchema)
    def put(self, data, cluster_id):
        """Replace a cluster's name and description; needs If-Match."""
        return _update_cluster(cluster_id, {"description": None, **data})

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(ClusterPatchSchema)
    @blp.response(200, ClusterSchema)
    def patch(self, data, cluster_id):
        """Change a cluster's name or description; needs If-Match."""
        return _update_cluster(cluster_id, data)

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.response(204)
    def delete(self, cluster_id):
        """Delete a cluster that no location belongs to (409 otherwise)."""
        cluster = queries.cluster_by_key(db.session, cluster_id)
        services.delete_cluster(db.session, core.user(), cluster.id)


def _update_cluster(cluster_id: str, data: dict):
    cluster = queries.cluster_by_key(db.session, cluster_id)
    locked = core.locked_matching(Cluster, cluster.id, cluster_tag, "cluster")
    values = {"name": locked.name, "description": locked.description, **data}
    return _cluster_row(services.update_cluster(db.session, core.user(), locked.id, **values))


# Categories --------------------------------------------------------------------------------

def category_tag(category: Category) -> str:
    """A category's ETag: a digest of its stored fields."""
    return core.digest_tag(*(getattr(category, f) for f in services.CATEGORY_FIELDS))


def _category_coded(code: str) -> Category:
    category = queries.category_by_code(db.session, code)
    if category is None:
        raise ValidationFailed({"parent_code": f"No category has the code {code!r}"})
    return category


LEVEL = "1 for a top-level category, 2 below it, and so on (as the analytics count levels)"


class CategoryBaseSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    level = fields.Integer(metadata={"description": LEVEL})
    is_leaf = fields.Boolean(metadata={
        "description": "No sub-categories: plans, OTB, range intent and POs may use it"})
    in_use = fields.Boolean(metadata={
        "description": "Season data refers to it, so it stays a leaf and cannot be deleted"})


class CategorySchema(CategoryBaseSchema):
    parent_code = fields.String(allow_none=True)
    created_at = core.Timestamp()
    updated_at = core.Timestamp()


class CategoryNodeSchema(CategoryBaseSchema):
    children = fields.List(fields.Nested(lambda: CategoryNodeSchema()))


class CategoryPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    parent_id = fields.UUID(allow_none=True, metadata={"description": "null: top level"})
    parent_code = fields.String(allow_none=True, validate=validate.Length(max=50), metadata={
        "description": "The parent by code, instead of parent_id"})


class CategoryWriteSchema(CategoryPatchSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CategoryCreateSchema(CategoryWriteSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50), metadata={
        "description": "Upper-case letters, digits, '-' and '_'; unique; fixed once given"})


class CategoryListArgs(core.Paging):
    parent_id = fields.UUID()
    parent_code = fields.String(validate=validate.Length(max=50))
    level = fields.Integer(validate=validate.Range(min=1, max=1000),
                           metadata={"description": LEVEL})
    is_leaf = fields.Boolean()
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the code or name"})


def _category_item(row) -> dict:
    category = row.Category
    return {"id": category.id, "code": category.code, "name": category.name,
            "description": category.description, "parent_id": category.parent_id,
            "parent_code": row.parent_code, "level": row.level, "is_leaf": bool(row.is_leaf),
            "in_use": bool(row.in_use), "created_at": category.created_at,
            "updated_at": category.updated_at}


def _category_node(node) -> dict:
    category = node.category
    return {"id": category.id, "code": category.code, "name": category.name,
            "description": category.description, "parent_id": category.parent_id,
            "level": node.depth + 1, "is_leaf": node.is_leaf, "in_use": bool(node.in_use),
            "children": [_category_node(child) for child in node.children]}


def _category_answer(category: Category) -> dict:
    core.set_etag(category_tag(category))
    return _category_item(db.session.execute(
        queries.categories(category_id=category.id)).one())


@blp.route("/categories")
class Categories(MethodView):
    @blp.arguments(CategoryListArgs, location="query")
    @blp.response(200, CategorySchema(many=True))
    def get(self, args):
        """Categories as a flat list by code, each with its parent, level and leaf flag;
        filter by parent (id or code), level, leaf flag or part of the code or name."""
        stmt = queries.categories(parent_id=args.get("parent_id"),
                                  parent_code=args.get("parent_code"), level=args.get("level"),
                                  leaf=args.get("is_leaf"), q=args.get("q"))
        return [_category_item(row) for row in core.rows_page(stmt, args)]

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    def post(self, data):
        """Create a category, at the top level or under a parent without season data."""
        data = _one_or_other(data, "parent_id", "parent_code", _category_coded)
        return _category_answer(services.create_category(db.session, core.user(), **data))


@blp.route("/categories/tree")
class CategoryTree(MethodView):
    @blp.response(200, CategoryNodeSchema(many=True))
    def get(self):
        """The whole category tree: the top-level categories by code, each with its
        sub-categories nested in `children`."""
        return [_category_node(node) for node in category_tree(db.session)]


@blp.route("/categories/<category_id>")
class CategoryItem(MethodView):
    @blp.response(200, CategorySchema)
    def get(self, category_id):
        """One category, by id or code, with its ETag."""
        return _category_answer(queries.category_by_key(db.session, category_id))

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(CategoryWriteSchema)
    @blp.response(200, CategorySchema)
    def put(self, data, category_id):
        """Replace a category's name, description and parent (left out: top level); the code
        is fixed; needs If-Match."""
        if "parent_code" not in data:
            data = {"parent_id": None, **data}
        return _update_category(category_id, {"description": None, **data})

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.arguments(CategoryPatchSchema)
    @blp.response(200, CategorySchema)
    def patch(self, data, category_id):
        """Rename, describe or move a category; needs If-Match."""
        return _update_category(category_id, data)

    @core.needs(Action.EDIT_MASTERDATA)
    @blp.response(204)
    def delete(self, category_id):
        """Delete a category without sub-categories that no season data refers to (409
        otherwise)."""
        category = queries.category_by_key(db.session, category_id)
        services.delete_category(db.session, core.user(), category.id)


def _update_category(category_id: str, data: dict) -> dict:
    category = queries.category_by_key(db.session, category_id)
    locked = core.locked_matching(Category, category.id, category_tag, "category")
    data = _one_or_other(data, "parent_id", "parent_code", _category_coded)
    values = {"name": locked.name, "description": locked.description,
              "parent_id": locked.parent_id, **data}
    category = services.update_category(db.session, core.user(), locked.id, **values)
    return _category_answer(category)
