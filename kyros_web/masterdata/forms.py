"""Master data forms: field types, presence and format; the rules are in the services."""
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..forms import UUIDSelectField, choices
from .models import LocationType


class ClusterForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required"), Length(max=100)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])


class LocationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required"), Length(max=200)])
    type = SelectField("Type", choices=choices((t.value, t.title) for t in LocationType))
    cluster_id = UUIDSelectField("Cluster")
    address = StringField("Address", validators=[Optional(), Length(max=300)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    country = StringField("Country", validators=[Optional(), Length(max=100)])


class NewLocationForm(LocationForm):
    location_code = StringField(
        "Location code", description="16 letters and digits; leave empty to generate one",
        filters=[lambda v: (v or "").strip().upper() or None],
        validators=[Optional(), Regexp(r"^[A-Z0-9]{16}$",
                                        message="Location code must be 16 characters A–Z and 0–9")])


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required"), Length(max=200)])
    parent_id = UUIDSelectField("Parent category")
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])


class NewCategoryForm(CategoryForm):
    code = StringField(
        "Code", description="Upper-case letters, digits, '-' and '_'; used by uploads",
        filters=[lambda v: (v or "").strip().upper()],
        validators=[DataRequired("Code is required"), Length(max=50),
                    Regexp(r"^[A-Z0-9_-]+$", message="Use letters, digits, '-' and '_' only")])
