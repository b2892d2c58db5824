"""The layering rule of the README ("Development: Layers"), read from the imports: master
data knows nobody, views import no other views, the import graph has no cycle and runs
upward only where this file says so."""
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
        "purchase_orders.location_id", "season_actuals.location_id",
        "otb_adjustments.from_location_id", "otb_adjustments.to_location_id",
        "otb_adjustment_lines.location_id"}
    assert {str(c) for c in referring_columns(Category.__table__)} == {
        "season_plans.category_id", "otb_plan.category_id", "range_intents.category_id",
        "purchase_orders.category_id", "season_actuals.category_id",
        "otb_adjustments.from_category_id", "otb_adjustments.to_category_id",
        "otb_adjustment_lines.category_id"}


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


# The layers, lowest first. Domains: auth and master data at the bottom, then the workflow,
# the plans, the buying against them, the files that feed them and the analytics over all.
DOMAIN_ORDER = {"auth": 1, "masterdata": 1, "seasons": 2, "planning": 3, "purchasing": 4,
                "uploads": 5, "exceptions": 5, "analytics": 6, "approvals": 6,
                # The JSON API sits on every domain, as the pages do; so do the exports built
                # by background jobs (issue 19), over the analytics.
                "api": 7, "exports": 7}
# Within a domain: models, then pure modules (every module not named here: rules, formulas,
# the workflow table, parsing), then reads, then writes, then pages.
MODULE_KIND = {"models": 0, "queries": 2, "sql": 2, "facts": 2, "tree": 2, "data": 2,
               "inseason": 2, "levels": 2, "in_season": 3, "summaries": 3,
               "services": 3, "kinds": 3, "bulk": 3, "reports": 3, "export": 3, "views": 4,
               "forms": 4}
# The composition roots wire everything together and may import anything.
ROOTS = {"kyros_web", "kyros_web.cli", "kyros_web.models"}
# The upward imports we live with, each for a reason (at most 4):
ALLOWED_UPWARD = {
    # The OTB grid shows what POs commit to each cell; the SQL of "committed" is purchasing's.
    ("kyros_web.planning.queries", "kyros_web.purchasing.queries"),
    # So does the in-season OTB (reforecast receipts − committed), in the same SQL.
    ("kyros_web.planning.inseason", "kyros_web.purchasing.queries"),
    # The gates of the workflow count plan and OTB facts; only this module reads them.
    ("kyros_web.seasons.facts", "kyros_web.planning.queries"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Every kyros_web module → the kyros_web modules it imports (at any depth of its code)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
                candidates = ([stem] if node.module else
                              [f"{stem}.{alias.name}" for alias in node.names])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kyros_web"):
                candidates = [node.module]
            else:
                continue
            for candidate in candidates:
                while candidate not in modules and "." in candidate:
                    candidate = candidate.rsplit(".", 1)[0]
                # A module importing its own package's __init__ is no edge.
                if candidate in modules and candidate != name and candidate != package:
                    targets.add(candidate)
        graph[name] = targets
    return graph


def _layer(module: str):
    """(domain rank, module kind), or None for a composition root; infrastructure is rank 0."""
    parts = module.split(".")[1:]
    if module in ROOTS or parts[0] == "demo":
        return None
    if parts[0] in DOMAIN_ORDER:
        return DOMAIN_ORDER[parts[0]], MODULE_KIND.get(parts[1] if len(parts) > 1 else "", 1)
    return 0, 1


def upward_imports(graph) -> set[tuple[str, str]]:
    """Imports of a read, write or page module of a higher layer (models and pure modules of
    any domain may be imported by all), and any import of a domain by infrastructure."""
    found = set()
    for source, targets in graph.items():
        for target in targets:
            a, b = _layer(source), _layer(target)
            if a is None or b is None or b[0] == 0:
                continue
            if a[0] == 0 or (b[1] >= 2 and (b[0] > a[0] or (b[0] == a[0] and b[1] > a[1]))):
                found.add((source, target))
    return found


def test_the_import_graph_runs_upward_only_where_allowed():
    graph = import_graph()
    assert len(ALLOWED_UPWARD) <= 4
    assert upward_imports(graph) == ALLOWED_UPWARD


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module, path):
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                raise AssertionError(" → ".join(path + [module, target]))
            if target not in state:
                visit(target, path + [module])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_layer_check_sees_an_upward_import():
    """The check itself: a service importing a page, and infrastructure importing a domain,
    are both found."""
    graph = {"kyros_web.planning.services": {"kyros_web.purchasing.views"},
             "kyros_web.paging": {"kyros_web.seasons.models"},
             "kyros_web.purchasing.services": {"kyros_web.planning.rules"}}
    assert upward_imports(graph) == {
        ("kyros_web.planning.services", "kyros_web.purchasing.views"),
        ("kyros_web.paging", "kyros_web.seasons.models")}
