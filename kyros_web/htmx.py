"""The only module that reads HX-* headers: page or block, and redirects after writes."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import redirect, render_template
from htmx_flask import request
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page: not a boosted navigation, and not
    a history restore (the back button after a filter, when htmx's history cache misses,
    replaces the whole body with the answer)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_args(path: str) -> MultiDict | None:
    """For an htmx request that swaps part of the page at `path`, that page's query-string
    arguments as the browser shows them now (HX-Current-URL): what earlier swaps changed
    since the requesting element was rendered. None for any other request."""
    current = request.htmx.current_url if wants_fragment() else None
    if not current or urlsplit(current).path != path:
        return None
    return MultiDict(parse_qsl(urlsplit(current).query, keep_blank_values=True))


def render(template: str, block: str | None = None, *, status_code: int = 200, **context):
    """The whole page, or just `block` of it when htmx asks for a fragment."""
    if block and wants_fragment():
        return render_block(template, block, **context), status_code
    return render_template(template, **context), status_code


def render_fragment(template: str, block: str, *, status_code: int = 200, **context):
    """Only `block`, whoever asks: for URLs that exist to refresh one region of a page."""
    return render_block(template, block, **context), status_code


def redirect_after_write(url: str):
    """After a successful write: 303 for browsers; HX-Redirect for an htmx form, so the next
    page loads whole (its request carries no HX-Request header that would ask for a block)."""
    if wants_fragment():
        return "", 200, {"HX-Redirect": url}
    return redirect(url, code=303)


def refresh_whole_page() -> dict:
    """Response headers that make htmx load the whole current page again (a polled region
    whose work has ended: the page around it changes too)."""
    return {"HX-Refresh": "true"}
