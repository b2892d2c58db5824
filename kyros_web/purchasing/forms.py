"""PO and GRN forms: field types and presence; the OTB policy and receipts are service rules."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import UUIDSelectField, choices
from .models import POSource


def _number_text(value):
    """Typed money as text without thousands separators ('1,234.50' → '1234.50')."""
    if value is None or value == "":
        return None
    return str(value).strip().replace(",", "") or None


class POForm(FlaskForm):
    po_number = StringField("PO number", validators=[DataRequired("PO number is required"),
                                                     Length(max=50)])
    location_id = UUIDSelectField("Location")
    category_id = UUIDSelectField("Leaf category")
    supplier = StringField("Supplier", validators=[Optional(), Length(max=200)])
    order_date = DateField("Order date", validators=[DataRequired("Order date is required (YYYY-MM-DD)")])
    delivery_date = DateField("Delivery date", validators=[Optional()],
                              description="When the goods are due; empty means the order date. "
                                          "Its month decides which OTB the PO consumes.")
    po_value = StringField("PO value (retail)", validators=[DataRequired("PO value is required")],
                           filters=[_number_text])
    source = SelectField("Source", choices=choices((s.value, s.title) for s in POSource),
                         default=POSource.MANUAL.value)
    version = HiddenField()


class GRNForm(FlaskForm):
    po_number = StringField("PO number", validators=[DataRequired("PO number is required"),
                                                     Length(max=50)])
    grn_number = StringField("GRN number", validators=[DataRequired("GRN number is required"),
                                                       Length(max=50)])
    grn_date = DateField("Date received", validators=[DataRequired("Date received is required (YYYY-MM-DD)")])
    received_value = StringField("Received value (retail)",
                                 validators=[DataRequired("Received value is required")],
                                 filters=[_number_text])
