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
