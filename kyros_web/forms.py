"""The one way a view runs a form: validate, call the service, 303 on success, or the form
again with its messages next to the fields and status 422 (SPEC §8)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Callable

from flask import flash, url_for
from wtforms import SelectChoice, SelectField

from .errors import Conflict, ValidationFailed
from .htmx import redirect_after_write, render


def attach_errors(form, exc: ValidationFailed | Conflict, default_field: str | None = None) -> None:
    """Put a service's messages on the form fields they name; the rest on the form."""
    errors = exc.errors if isinstance(exc, ValidationFailed) else {default_field or "": exc.message}
    for name, message in errors.items():
        field = form._fields.get(name) if name else None
        # A hidden field (the row version) shows no message; say it above the form.
        if field is not None and field.type != "HiddenField":
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def submit(form, save: Callable, *, template: str, success: Callable[[object], str],
           message: Callable[[object], str], default_field: str | None = None, **context):
    """Run `save()` when the form validates; the rules themselves live in the service."""
    if form.validate_on_submit():
        try:
            result = save()
        except (ValidationFailed, Conflict) as exc:
            attach_errors(form, exc, default_field)
        else:
            flash(message(result), "success")
            return redirect_after_write(success(result))
    return render(template, block="form", status_code=422, form=form, **context)


@dataclass(frozen=True)
class FormPage:
    """The new/edit form of one kind of record: its template, the name the template and the
    messages know the record by, and the list page a save goes back to."""

    template: str
    name: str
    index: str
    label: Callable[[object], str]

    def show(self, form, record=None):
        """The form page, empty for a new record or filled from `record`."""
        return render(self.template, form=form, **{self.name: record})

    def save(self, form, write: Callable, record=None, *, done: str,
             default_field: str | None = None, label: Callable[[object], str] | None = None):
        """`submit` the form; a save goes back to the list, saying e.g. 'Cluster North saved.'"""
        label = label or self.label
        return submit(form, write, template=self.template, default_field=default_field,
                      success=lambda saved: url_for(self.index),
                      message=lambda saved: f"{self.name.capitalize()} {label(saved)} {done}.",
                      **{self.name: record})


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class UUIDSelectField(SelectField):
    """A select whose values are UUIDs (or empty for none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", _uuid_or_none)
        kwargs.setdefault("validate_choice", True)
        super().__init__(*args, **kwargs)


def _uuid_or_none(value):
    if value in (None, "", "None"):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return str(value)  # not a choice: validate_choice reports it
