"""The workflow table: one legal next step, no way back, locked is final (SPEC §3)."""
import itertools

import pytest

from kyros_web.errors import IllegalTransition
from kyros_web.auth.roles import Action
from kyros_web.seasons.workflow import (AREA_ACTIONS, EDITABLE, NEXT, ORDER, Area, SeasonStatus,
                                        is_legal, may_edit, next_status, statuses_editing)

PAIRS = list(itertools.product(ORDER, ORDER))


@pytest.mark.parametrize("current,target", PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_only_the_next_status_is_legal(current, target):
    """Exactly one pair per status is legal: to the status right after it."""
    expected = ORDER.index(target) == ORDER.index(current) + 1
    assert is_legal(current, target) is expected


def test_order_is_the_seed_order():
    assert [s.value for s in ORDER] == ["created", "locations_defined", "plan_uploaded",
                                        "otb_uploaded", "range_uploaded", "locked"]


def test_locked_has_no_next_status():
    assert next_status(SeasonStatus.LOCKED) is None
    assert SeasonStatus.LOCKED not in NEXT


def test_illegal_transition_message_is_the_seeds():
    assert str(IllegalTransition("created", "locked")) == (
        "Invalid workflow transition: cannot move from 'created' to 'locked'")


@pytest.mark.parametrize("status,areas", [
    ("created", {"details", "locations", "delete", "reforecast"}),
    ("locations_defined", {"details", "locations", "plans", "reforecast"}),
    ("plan_uploaded", {"otb", "reforecast"}),
    ("otb_uploaded", {"range", "reforecast", "adjustments"}),
    ("range_uploaded", {"purchasing", "actuals", "reforecast", "adjustments"}),
    ("locked", set()),
])
def test_what_each_status_lets_change(status, areas):
    """Each status opens exactly the areas of the SPEC §3 table (and the reforecast method,
    issue 16, until the lock; OTB adjustments, issue 17, once the OTB is set until the lock)."""
    for area in Area:
        assert may_edit(SeasonStatus(status), area) is (area.value in areas)


def test_every_area_is_editable_somewhere():
    for area in Area:
        assert statuses_editing(area), area
    assert set(EDITABLE) == set(SeasonStatus)


def test_every_area_names_the_permission_its_writes_take():
    """A page asks can_edit(user, season, area) before it shows an edit control: every area
    needs its permission (the reforecast method's is managing seasons)."""
    assert set(AREA_ACTIONS) == set(Area)
    assert AREA_ACTIONS[Area.REFORECAST] is Action.MANAGE_SEASONS


def test_statuses_carry_titles():
    assert SeasonStatus.OTB_UPLOADED.title == "OTB uploaded"
    assert SeasonStatus.LOCKED.position == 5
