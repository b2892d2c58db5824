"""Season forms: presence and format; dates and the rest are checked by the services."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import DataRequired, Length


class SeasonForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name is required"), Length(max=200)])
    start_date = DateField("Start date", validators=[DataRequired("Start date is required (YYYY-MM-DD)")])
    end_date = DateField("End date", validators=[DataRequired("End date is required (YYYY-MM-DD)")])
    # Shown on the edit form only; a new season always starts with the chain on.
    chain_stock = BooleanField("Opening stock follows the previous month's closing stock",
                               default=True)
