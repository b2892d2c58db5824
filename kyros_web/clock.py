"""The app's one clock: what "today" is for every rule and page that asks (GRN dates, PO
ageing, reports keyed by day, actuals not after the current month). `KYROS_TODAY` (YYYY-MM-DD)
fixes it for a demo or a test; otherwise it is the real date."""
from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context


def today() -> date:
    fixed = current_app.config.get("KYROS_TODAY") if has_app_context() else None
    return fixed or date.today()
