"""PO and GRN forms: field types and presence; the OTB policy and receipts are service rules."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..forms import UUIDSelectField, choices
from .models import POSource
from .rules import number_problem


def document_number(form, field):
    """The PO/GRN number rule of purchasing/rules.py, next to the field."""
    problem = number_problem((field.data or "").strip())
    if problem:
        raise ValidationError(f"{field.label.text} {problem}")


class POForm(FlaskForm):
    po_number = StringField("PO number", validators=[DataRequired("PO number is required"),
                                                     document_number])
    location_id = UUIDSelectField("Location")
    category_id = UUIDSelectField("Leaf category")
    supplier = StringField("Supplier", validators=[Optional(), Length(max=200)])
    order_date = DateField("Order date", validators=[DataRequired("Order date is required (YYYY-MM-DD)")])
    delivery_date = DateField("Delivery date", validators=[Optional()],
                              description="When the goods are due; empty means the order date. "
                                          "Its month decides which OTB the PO consumes.")
    # Typed numbers reach the service as typed: values.read_decimal is their one reader.
    po_value = StringField("PO value (retail)", validators=[DataRequired("PO value is required")])
    source = SelectField("Source", choices=choices((s.value, s.title) for s in POSource),
                         default=POSource.MANUAL.value)
    version = HiddenField()


class NewPOForm(POForm):
    release_reason = TextAreaField(
        "Over budget? Ask for a release", validators=[Optional(), Length(max=500)],
        description="Only when this PO goes over its cell's budget: say why it should. Under "
                    "the block policy the PO then waits, consuming nothing, until a planner or "
                    "an admin releases it (it becomes open) or rejects it (it is cancelled); "
                    "under the warn policy it is saved and the reason kept for the audit.")


class GRNForm(FlaskForm):
    po_number = StringField("PO number", validators=[DataRequired("PO number is required"),
                                                     document_number])
    grn_number = StringField("GRN number", validators=[DataRequired("GRN number is required"),
                                                       document_number])
    grn_date = DateField("Date received", validators=[DataRequired("Date received is required (YYYY-MM-DD)")])
    received_value = StringField("Received value (retail)",
                                 validators=[DataRequired("Received value is required")])
