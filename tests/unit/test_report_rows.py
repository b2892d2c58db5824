"""The cells of a report table's row (templating.report_row): each figure by its column's kind,
escaped, linked to the OTB grid filtered to its row and column, a PO number to its PO."""
from decimal import Decimal as D
from types import SimpleNamespace

from kyros_web.analytics.report import Column, Table
from kyros_web.templating import report_row

TABLE = Table("t", "T", [Column("Location"), Column("Sales", "money"),
                         Column("Over", "money", drill={"flag": "over"}), Column("PO", "po"),
                         Column("Note", "prose")], rows=[])
SEASON = SimpleNamespace(season_code="AB12-CD34")


def test_a_row_links_its_first_cell_and_drilled_columns(app):
    row = ["<b>Leeds</b>", D("1234.5"), D("-2"), "P-1", "a & b"]
    with app.test_request_context():
        html = str(report_row(TABLE, row, {"location": "LS1"}, SEASON))
    assert html.startswith('<td class=""><a href="/planning/AB12-CD34/otb?location=LS1">'
                           '&lt;b&gt;Leeds&lt;/b&gt;</a></td>')
    assert '<td class="num">1,234.50</td>' in html
    assert ('<td class="num"><a href="/planning/AB12-CD34/otb?location=LS1&amp;flag=over">'
            '-2.00</a></td>') in html
    assert '<a href="/purchasing/AB12-CD34/pos/P-1">P-1</a>' in html
    assert html.endswith('<td class="prose">a &amp; b</td>')


def test_a_totals_row_heads_with_its_label_and_a_row_without_link_has_none(app):
    with app.test_request_context():
        total = str(report_row(TABLE, ["Total", D("1"), D("0"), None, ""], {}, SEASON,
                               header=True))
        plain = str(report_row(TABLE, ["x", D("1"), D("0"), "P1", ""], None, None))
    assert total.startswith('<th scope="row"><a href="/planning/AB12-CD34/otb">Total</a></th>')
    assert "<a" not in plain and plain.startswith('<td class="">x</td>')
