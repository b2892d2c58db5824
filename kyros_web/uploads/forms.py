"""The upload form: what the file holds and the file itself must be there, the season is
read as given; the kinds' rules, the season's status and the size limit are the services'."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import AnyOf

from .models import UploadKind


class UploadForm(FlaskForm):
    # The page draws the kind and season selects itself: it offers only the user's kinds.
    kind = StringField(validators=[AnyOf([k.value for k in UploadKind],
                                         message="Choose what the file holds.")])
    season = StringField()
    file = FileField("File", validators=[FileRequired("Choose a file to upload.")])

    def first_error(self) -> str | None:
        """The message of the first field that failed, in the order the form shows them."""
        rest = [f for f in self if f not in (self.kind, self.file)]
        return next((f.errors[0] for f in (self.kind, self.file, *rest) if f.errors), None)
