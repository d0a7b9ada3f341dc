"""`make demo` sends email over real SMTP to a local mailbox: invitations can be followed from
the console, and the delivery to the funder is really sent – nothing leaves the machine."""

from email import message_from_bytes
from email.policy import default as default_policy

from grants.launcher import start_services


def test_demo_mode_starts_a_mailbox_that_keeps_every_email(app, world, login_as, run_worker,
                                                           tmp_path):
    app.config["DEMO_MODE"] = True
    env: dict[str, str] = {}
    stoppers = start_services(app, env)
    try:
        assert env["MAIL_SERVER"] == "127.0.0.1" and int(env["MAIL_PORT"]) > 0
        app.config.update(MAIL_SERVER=env["MAIL_SERVER"], MAIL_PORT=int(env["MAIL_PORT"]),
                          MAIL_FROM=env["MAIL_FROM"])
        coordinator = login_as("coordinator@demo.test")
        response = coordinator.post("/admin/users/invite", {
            "email": "ny@demo.test", "name": "Nina Ny",
            "organisation_ids": str(world.orgs["kalmar"].id)})
        assert response.status_code == 303
        run_worker()
    finally:
        for stop in stoppers:
            stop()
    kept = sorted((tmp_path / "instance" / "demo-mail").glob("*.eml"))
    assert len(kept) == 1
    message = message_from_bytes(kept[0].read_bytes(), policy=default_policy)
    assert message["To"] == "ny@demo.test" and message["From"].addresses[0].addr_spec == "bidrag@demo.test"
    assert "/invitations/" in message.get_body(preferencelist=("plain",)).get_content()


def test_no_mailbox_outside_demo_mode_or_with_a_mail_server(app):
    app.config["DEMO_MODE"] = False
    env: dict[str, str] = {}
    assert start_services(app, env) == [] and "MAIL_SERVER" not in env
    app.config["DEMO_MODE"] = True
    app.config["SIGNING_PKCS12"] = "seal.p12"  # a seal configured: no demo TSA either
    env = {"MAIL_SERVER": "smtp.example.org"}
    assert start_services(app, env) == [] and env == {"MAIL_SERVER": "smtp.example.org"}


def test_the_console_shows_the_link_and_attachments(tmp_path):
    import smtplib
    from email.message import EmailMessage

    from grants.demo_mailbox import DemoMailbox
    printed: list[str] = []
    mailbox = DemoMailbox(tmp_path / "mail", echo=printed.append)
    host, port = mailbox.start()
    try:
        message = EmailMessage()
        message["From"], message["To"] = "bidrag@demo.test", "registrator@kulturradet.example"
        message["Subject"] = "Ansökan: Läsfrämjande"
        message.set_content("Öppna http://127.0.0.1:5000/partner-invitations/abc för att svara.")
        message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf",
                               filename="ansokan.pdf")
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        mailbox.stop()
    assert len(mailbox.messages) == 1
    assert "to registrator@kulturradet.example: Ansökan: Läsfrämjande" in printed[0]
    assert "link: http://127.0.0.1:5000/partner-invitations/abc" in printed[0]
    assert "attachment: ansokan.pdf" in printed[0]
