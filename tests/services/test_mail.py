"""Mail through a real SMTP server started in the test (issue 17, item 5): aiosmtpd on a
loopback port with STARTTLS (a certificate made for the test) and credentials. Approvers hear
of a request, the requester of the decision; a message leaves only after the transaction
commits, and a server that fails never undoes a decision."""
from __future__ import annotations

import email
import email.policy
import socket
import subprocess
from decimal import Decimal as D

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import func, select

from kyros_web import mail
from kyros_web.errors import ValidationFailed
from kyros_web.models import OTBAdjustment
from kyros_web.planning import services
from kyros_web.planning.adjustments import Scope

from .test_adjustments import FEB, shop  # noqa: F401  (the fixture)

USER, PASSWORD = "kyros", "s3cret-mail"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def smtp(app, certificate):
    """A running SMTP server that demands STARTTLS and a login; the app pointed at it."""
    import ssl
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, auth_required=True,
                            authenticator=_authenticate)
    controller.start()
    app.config.update(KYROS_SMTP_URL=f"smtp://{USER}:{PASSWORD}@127.0.0.1:{port}",
                      KYROS_SMTP_CA_FILE=str(cert), KYROS_BASE_URL="https://kyros.example")
    yield inbox
    controller.stop()
    app.config.update(KYROS_SMTP_URL="", KYROS_SMTP_CA_FILE="", KYROS_BASE_URL="")


def _request(session, s, amount="300.00", source="x", target="z"):
    return services.request_adjustment(session, s["requester"], s["season"].id, amount=D(amount),
                                       source=Scope(category_id=s[source].id, month=FEB),
                                       target=Scope(category_id=s[target].id, month=FEB),
                                       reason="x sells slowly")


def _texts(inbox):
    """Each message as its Subject line and its decoded body."""
    out = []
    for envelope in inbox.messages:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        out.append(f"Subject: {message['Subject']}\n{message.get_content()}")
    return out


def test_approvers_hear_of_a_request_and_the_requester_of_the_decision(session, shop, make,
                                                                      smtp):
    s = shop
    admin = make.admin
    make.user("buyer")  # buyers do not decide: no message
    row = _request(session, s)
    recipients = sorted(r for e in smtp.messages for r in e.rcpt_tos)
    assert recipients == sorted([s["approver"].email, admin.email])
    text = _texts(smtp)[0]
    assert f"Subject: Kyros: request #1 in {s['season'].season_code} waits for your decision" in text
    assert "x sells slowly" in text and "300.00" in text
    assert "https://kyros.example/approvals/" in text
    smtp.messages.clear()
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="agreed")
    assert [e.rcpt_tos for e in smtp.messages] == [[s["requester"].email]]
    text = _texts(smtp)[0]
    assert "is approved" in text and "Note: agreed" in text


def test_a_message_leaves_only_when_its_transaction_commits(session, smtp):
    message = mail.Message(("someone@example.com",), "Kyros: test", "body")
    mail.queue(session, message)
    session.rollback()
    assert smtp.messages == []
    mail.queue(session, message)
    assert smtp.messages == []  # queued, not sent: the transaction is still open
    session.commit()
    assert [e.rcpt_tos for e in smtp.messages] == [["someone@example.com"]]


def test_a_refused_decision_sends_nothing(session, shop, smtp):
    # February's z has 1,000.00 of open to buy.
    row = _request(session, shop, amount="1000.01", source="z", target="x")
    smtp.messages.clear()
    with pytest.raises(ValidationFailed):
        services.decide_adjustment(session, shop["approver"], row.id, approve=True,
                                   note="go")
    assert smtp.messages == []


def test_a_failing_server_never_undoes_a_decision(app, session, shop, caplog):
    row = _request(session, shop)  # no SMTP yet: nothing queued
    app.config.update(KYROS_SMTP_URL=f"smtp://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}")
    try:
        with caplog.at_level("WARNING", logger="kyros_web.mail"):
            services.decide_adjustment(session, shop["approver"], row.id, approve=False,
                                       note="no")
    finally:
        app.config.update(KYROS_SMTP_URL="")
    session.expire_all()
    assert session.scalars(select(OTBAdjustment.status)).one() == "rejected"
    assert "mail not sent" in caplog.text


def test_wrong_credentials_are_logged_not_raised(app, session, shop, smtp, caplog):
    app.config.update(KYROS_SMTP_URL=app.config["KYROS_SMTP_URL"].replace(PASSWORD, "wrong"))
    with caplog.at_level("WARNING", logger="kyros_web.mail"):
        row = _request(session, shop)
    assert row.status == "pending" and smtp.messages == []
    assert "mail not sent (0 of 2 sent)" in caplog.text


@pytest.mark.parametrize("url,security,port", [
    ("smtp://u:p@mail.example:587", "starttls", 587),
    ("smtp://mail.example", "starttls", 587),
    ("smtps://u:p%40x@mail.example", "tls", 465),
    ("smtp://relay.example:25?tls=none", "none", 25),
])
def test_the_url_says_how_to_talk_to_the_server(url, security, port):
    server = mail.parse_url(url)
    assert (server.security, server.port) == (security, port)


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "smtp://h:99999",
                                 "smtp://h?tls=maybe"])
def test_a_bad_url_is_refused(url):
    with pytest.raises(mail.MailConfigError):
        mail.parse_url(url)


def test_the_daily_digest_tells_each_exception_once(app, session, shop, make, smtp):
    """`flask kyros digest` mails the open exceptions to admins, planners and buyers (not
    viewers), remembers them, and the next run tells only of new ones."""
    from kyros_web.purchasing.services import create_po
    from kyros_web.seasons.services import advance_season
    s = shop
    season = s["season"]
    make.fill(season)
    advance_season(session, make.admin, season.id)  # in season: POs
    buyer, viewer = make.user("buyer"), make.user("viewer")
    create_po(session, buyer, season.id, po_number="PO-OVER", location_id=s["a"].id,
              category_id=s["z"].id, po_value="450", order_date=FEB, policy="warn")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["kyros", "digest"])
    assert first.exit_code == 0, first.output
    assert "Cell over budget" in first.output and "Mailed to" in first.output
    recipients = sorted(r for e in smtp.messages for r in e.rcpt_tos)
    assert viewer.email not in recipients and buyer.email in recipients
    assert s["requester"].email in recipients and make.admin.email in recipients
    text = _texts(smtp)[0]
    assert "new exception(s)" in text and f"https://kyros.example/exceptions/{season.season_code}" in text
    smtp.messages.clear()
    again = runner.invoke(args=["kyros", "digest"])
    assert again.exit_code == 0 and "No new exceptions since the last digest" in again.output
    assert smtp.messages == []
    # New exceptions are told, alone: b × z goes over budget and its PO is overdue.
    create_po(session, buyer, season.id, po_number="PO-OVER-2", location_id=s["b"].id,
              category_id=s["z"].id, po_value="700", order_date=FEB, policy="warn")
    third = runner.invoke(args=["kyros", "digest"])
    assert third.exit_code == 0 and "2 new exception(s)" in third.output, third.output
    assert "PO-OVER-2" in third.output and "PO PO-OVER:" not in third.output


def test_a_digest_without_smtp_or_with_a_failing_server_remembers_nothing(app, session, shop,
                                                                         make):
    from kyros_web.models import DigestEntry
    from kyros_web.purchasing.services import create_po
    from kyros_web.seasons.services import advance_season
    s = shop
    make.fill(s["season"])
    advance_season(session, make.admin, s["season"].id)
    create_po(session, make.user("buyer"), s["season"].id, po_number="PO-OVER",
              location_id=s["a"].id, category_id=s["z"].id, po_value="450", order_date=FEB,
              policy="warn")
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["kyros", "digest"])
    assert plain.exit_code == 0 and "SMTP is not configured" in plain.output
    app.config.update(KYROS_SMTP_URL=f"smtp://{USER}:{PASSWORD}@127.0.0.1:{_free_port()}")
    try:
        failing = runner.invoke(args=["kyros", "digest"])
    finally:
        app.config.update(KYROS_SMTP_URL="")
    assert failing.exit_code == 1 and "nothing remembered" in failing.output
    assert session.scalar(select(func.count()).select_from(DigestEntry)) == 0
