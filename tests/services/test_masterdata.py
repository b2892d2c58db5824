"""Master data rules (SPEC §2): unique names and codes, the tree, the leaf rule, deletes."""
import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.errors import Conflict, Forbidden, ValidationFailed
from kyros_web.masterdata import services
from kyros_web.models import Category, Location
from kyros_web.seasons.workflow import SeasonStatus


def test_cluster_names_unique_regardless_of_case(session, make):
    make.cluster("Region 03")
    with pytest.raises(ValidationFailed, match="already exists"):
        services.create_cluster(session, make.admin, name="  region 03 ")


def test_cluster_rename_to_existing_name_refused(session, make):
    make.cluster("North")
    south = make.cluster("South")
    with pytest.raises(ValidationFailed, match="already exists"):
        services.update_cluster(session, make.admin, south.id, name="NORTH")
    services.update_cluster(session, make.admin, south.id, name="south")  # its own name, new case
    assert south.name == "south"


def test_cluster_with_locations_cannot_be_deleted(session, make):
    cluster = make.cluster()
    make.location(cluster=cluster)
    with pytest.raises(Conflict, match="has 1 location"):
        services.delete_cluster(session, make.admin, cluster.id)
    empty = make.cluster()
    services.delete_cluster(session, make.admin, empty.id)


def test_location_code_generated_or_given(session, make):
    generated = make.location()
    assert len(generated.location_code) == 16 and generated.location_code.isalnum()
    given = make.location(location_code="abcdefghijklmnop")
    assert given.location_code == "ABCDEFGHIJKLMNOP"
    with pytest.raises(ValidationFailed, match="already used"):
        make.location(location_code="ABCDEFGHIJKLMNOP")
    with pytest.raises(ValidationFailed, match="16 characters"):
        make.location(location_code="SHORT")


def test_referenced_location_is_deactivated_not_deleted(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    used = season.test_locations[0]
    with pytest.raises(Conflict, match="deactivate it instead"):
        services.delete_location(session, make.admin, used.id)
    services.set_location_active(session, make.admin, used.id, False)
    assert used.is_active is False
    spare = make.location()
    services.delete_location(session, make.admin, spare.id)
    assert session.get(Location, spare.id) is None


def test_location_edit_is_audited(session, make):
    loc = make.location(name="Old name")
    services.update_location(session, make.admin, loc.id, name="New name", type="warehouse",
                             cluster_id=loc.cluster_id)
    event = session.scalar(select(AuditEvent).where(AuditEvent.entity == "location",
                                                    AuditEvent.action == "update"))
    assert event.before == {"name": "Old name", "type": "store"}
    assert event.after == {"name": "New name", "type": "warehouse"}


@pytest.mark.parametrize("code", ["", "HAS SPACE", "X" * 51, "Ü", "A.B"])
def test_category_code_format(session, make, code):
    with pytest.raises(ValidationFailed):
        services.create_category(session, make.admin, code=code, name="N")


def test_category_code_is_upper_cased_and_unique(session, make):
    c = services.create_category(session, make.admin, code="d09-x_1", name="N")
    assert c.code == "D09-X_1"
    with pytest.raises(ValidationFailed, match="already used"):
        services.create_category(session, make.admin, code="D09-X_1", name="Again")


def test_category_cannot_move_under_itself_or_a_descendant(session, make):
    root = make.category()
    child = make.category(parent=root)
    grandchild = make.category(parent=child)
    for target in (root, child, grandchild):
        with pytest.raises(ValidationFailed, match="cannot move under itself"):
            services.update_category(session, make.admin, root.id, name="R", parent_id=target.id)
    other = make.category()
    services.update_category(session, make.admin, grandchild.id, name="G", parent_id=other.id)
    assert grandchild.parent_id == other.id


def test_leaf_with_season_rows_cannot_get_children(session, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    leaf = season.test_leaves[0]
    with pytest.raises(ValidationFailed, match="must stay a leaf"):
        make.category(parent=leaf)
    moving = make.category()
    with pytest.raises(ValidationFailed, match="must stay a leaf"):
        services.update_category(session, make.admin, moving.id, name="M", parent_id=leaf.id)


def test_category_delete_rules(session, make):
    parent = make.category()
    child = make.category(parent=parent)
    with pytest.raises(Conflict, match="has sub-categories"):
        services.delete_category(session, make.admin, parent.id)
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    with pytest.raises(Conflict, match="cannot be deleted"):
        services.delete_category(session, make.admin, season.test_leaves[0].id)
    services.delete_category(session, make.admin, child.id)
    services.delete_category(session, make.admin, parent.id)
    assert session.scalar(select(func.count(Category.id)).where(
        Category.id.in_([parent.id, child.id]))) == 0


@pytest.mark.parametrize("role", ["buyer", "viewer"])
def test_only_admin_and_planner_edit_master_data(session, make, role):
    user = make.user(role)
    with pytest.raises(Forbidden):
        services.create_cluster(session, user, name="Nope")
    with pytest.raises(Forbidden):
        services.create_category(session, user, code="NOPE", name="Nope")
