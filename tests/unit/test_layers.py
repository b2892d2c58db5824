"""Master data knows nobody: its modules import no other domain, and who refers to a
location or a category is read from the schema's foreign keys."""
import ast
from pathlib import Path

import kyros_web

PACKAGE = Path(kyros_web.__file__).parent
OTHER_DOMAINS = ("planning", "purchasing", "seasons", "uploads", "analytics")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_master_data_imports_no_other_domain():
    for path in sorted((PACKAGE / "masterdata").glob("*.py")):
        for module in imported_modules(path):
            name = module.lstrip(".").split(".")[0]
            assert name not in OTHER_DOMAINS, f"{path.name} imports {module}"


def test_references_come_from_the_foreign_keys(app):
    """Every season table that names a location or a category counts, found in the schema."""
    from kyros_web.masterdata.models import Category, Location
    from kyros_web.masterdata.references import referring_columns

    assert {str(c) for c in referring_columns(Location.__table__)} == {
        "season_locations.location_id", "season_plans.location_id", "otb_plan.location_id",
        "purchase_orders.location_id"}
    assert {str(c) for c in referring_columns(Category.__table__)} == {
        "season_plans.category_id", "otb_plan.category_id", "range_intents.category_id",
        "purchase_orders.category_id"}


def test_views_import_no_other_views():
    """What two pages share lives in a service, a query or a guard, never in another view."""
    for path in sorted(PACKAGE.glob("*/views.py")):
        for module in imported_modules(path):
            assert not module.endswith(".views"), f"{path.parent.name}/views.py imports {module}"


def test_can_edit_needs_the_role_and_the_status():
    """One question for every page: the role may write the area and the status opens it."""
    from types import SimpleNamespace

    from kyros_web.auth.roles import Role
    from kyros_web.seasons.workflow import Area, SeasonStatus, can_edit

    def user(role):
        return SimpleNamespace(role=role, is_authenticated=True)

    season = SimpleNamespace(status=SeasonStatus.RANGE_UPLOADED)
    assert can_edit(user(Role.BUYER), season, Area.PURCHASING)
    assert not can_edit(user(Role.PLANNER), season, Area.PURCHASING)
    assert not can_edit(user(Role.BUYER), SimpleNamespace(status=SeasonStatus.LOCKED),
                        Area.PURCHASING)
    assert can_edit(user(Role.PLANNER), SimpleNamespace(status=SeasonStatus.CREATED),
                    Area.LOCATIONS)
    assert not can_edit(user(Role.VIEWER), SimpleNamespace(status=SeasonStatus.CREATED),
                        Area.DETAILS)
    assert not can_edit(None, season, Area.PURCHASING)


def test_season_views_run_no_query_of_their_own():
    """The season pages read through seasons/queries.py: their view module imports no SQL."""
    for module in imported_modules(PACKAGE / "seasons" / "views.py"):
        assert module.split(".")[0] != "sqlalchemy", f"seasons/views.py imports {module}"


def test_only_the_facts_module_reads_the_planning_and_purchasing_queries():
    """Season writes stay below planning and purchasing; the gates' counts are gathered apart."""
    for path in sorted((PACKAGE / "seasons").glob("*.py")):
        if path.name == "facts.py":
            continue
        for module in imported_modules(path):
            assert not module.endswith(("planning.queries", "purchasing.queries")), (
                f"seasons/{path.name} imports {module}")
