"""Whitelisted sort keys → ORDER BY, with the default for anything else."""
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from kyros_web.sorting import Sort, SortKeys

T = Table("t", MetaData(), Column("id", Integer), Column("name", String), Column("n", Integer))
KEYS = SortKeys({"name": (T.c.name,), "n": (T.c.n, T.c.name), "sum": None},
                default="n", default_descending=True, tiebreak=(T.c.id,))


def order(sort, **built):
    return str(select(T.c.id).order_by(*KEYS.order_by(sort, **built))).split("ORDER BY ")[1]


def test_read_keeps_known_keys_and_falls_back_to_the_default():
    assert KEYS.read({"sort": "name"}) == Sort("name", False)
    assert KEYS.read({"sort": "name", "dir": "desc"}) == Sort("name", True)
    for args in ({}, {"sort": "bogus", "dir": "desc"}, {"sort": "__class__"}, {"dir": "asc"}):
        assert KEYS.read(args) == Sort("n", True), args


def test_query_args_leave_out_the_default():
    assert KEYS.query_args(Sort("n", True)) == {}
    assert KEYS.query_args(Sort("n", False)) == {"sort": "n"}
    assert KEYS.query_args(Sort("name", True)) == {"sort": "name", "dir": "desc"}


def test_order_by_follows_the_direction_and_ends_on_the_tiebreaker():
    assert order(Sort("name", False)) == "t.name ASC, t.id ASC"
    assert order(Sort("n", True)) == "t.n DESC, t.name DESC, t.id ASC"
    assert order(Sort("bogus", False)) == "t.n ASC, t.name ASC, t.id ASC"
    assert order(Sort("sum", True), sum=(T.c.n + 1,)) == "t.n + :n_1 DESC, t.id ASC"


def test_a_tiebreaker_already_in_the_key_is_not_repeated():
    keys = SortKeys({"id": (T.c.id,)}, default="id", tiebreak=(T.c.id,))
    assert str(select(T.c.id).order_by(*keys.order_by(Sort("id", True)))).endswith(
        "ORDER BY t.id DESC")
