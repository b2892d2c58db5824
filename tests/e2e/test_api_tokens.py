"""The API tokens page in a browser (issue 18): a planner makes a token, a script uses it,
the season's history names it, and once revoked on the page the API refuses it."""
from __future__ import annotations

import re

import pytest
import requests

from .serving import logged_in_page, require_browser, served

PASSWORD = "tokens-password"


@pytest.fixture
def server():
    require_browser("the API tokens journey")
    with served("kyros-e2e-tokens-", ["kyros", "create-user", "planner@e2e.example", "--role",
                                      "planner", "--password", PASSWORD]) as (base, _):
        yield base


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_token_made_on_the_page_works_until_revoked(server, js):
    from playwright.sync_api import sync_playwright

    base = server
    with sync_playwright() as p:
        browser, page = logged_in_page(p, base, "planner@e2e.example", PASSWORD, js=js,
                                       timeout_ms=20000)

        page.goto(base + "/account/tokens")
        page.get_by_label("Name").fill("Nightly ERP")
        page.get_by_role("button", name="Create token").click()
        secret_field = page.get_by_label("Your new token")
        secret = secret_field.input_value()
        assert secret.startswith("kyros_")
        assert page.get_by_text("it will not be shown again").count() == 1

        api = {"Authorization": f"Bearer {secret}"}
        made = requests.post(base + "/api/v1/seasons", headers=api, timeout=30, json={
            "name": "From the ERP", "start_date": "2027-02-01", "end_date": "2027-04-30"})
        assert made.status_code == 201, made.text
        code = made.json()["season_code"]

        page.goto(f"{base}/seasons/{code}/history")
        assert page.get_by_text("via api token Nightly ERP").count() >= 1

        page.goto(base + "/account/tokens")
        assert secret not in page.content()  # shown once, never again
        page.get_by_role("button", name="Revoke").click()
        page.get_by_text("Token “Nightly ERP” revoked").wait_for()
        refused = requests.get(base + "/api/v1/seasons", headers=api, timeout=30)
        assert refused.status_code == 401
        assert refused.headers["Content-Type"] == "application/problem+json"

        page.get_by_role("link", name="API reference").click()
        page.wait_for_url(re.compile(r".*/api/docs$"))
        assert page.get_by_role("heading", name="Kyros API reference").count() == 1
        browser.close()
