"""The whole journey in a real browser, through the UI only: the lead writes an application and
invites a partner, the partner creates an account, adds its co-financing and confirms, the
steering group decides (two approve, one is recused), the lead submits and downloads the PDF.
Screenshots of every step are saved under test-artifacts/<test name>/."""

import re

from sqlalchemy import select

from grants.applications.models import Application
from grants.db import db
from grants.notifications.models import OutboxEmail
from grants.steering.models import SteeringMember
from tests.factories import FULL_ANSWERS, make_user

SECTION_TEXT = {key: next(iter(values.values())) for key, values in FULL_ANSWERS.items()}


def fire(page, name: str, comment: str = "") -> None:
    form = page.locator(f"form[action$='/transitions/{name}']")
    if comment:
        form.locator("textarea").fill(comment)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_from_first_draft_to_the_funders_pdf(world, visitor, run_worker):
    # A third steering member works for the partner organisation: recused (jäv).
    world.users["vaxjo_member"] = make_user("styrgrupp@vaxjo.example", "Vera Växjö",
                                            world.orgs["vaxjo"])
    db.session.flush()
    db.session.add(SteeringMember(group_id=world.group.id,
                                  user_id=world.users["vaxjo_member"].id))
    db.session.commit()

    lead = visitor().login("lead@demo.test")
    page = lead.page
    lead.shot("overview")

    # 1. The lead starts an application from the open call.
    lead.goto("/applications/new")
    page.select_option("#call_id", str(world.call.id))
    page.fill("#title", "Läslust i sydost")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/applications/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    lead.shot("application-created")

    # 2. … and writes every section (with the keyboard: Enter saves a single-line field).
    for key, text in SECTION_TEXT.items():
        lead.goto(f"/applications/{application_id}/sections/{key}")
        field = page.locator("main form textarea, main form input.input").first
        field.fill(str(text))
        with page.expect_navigation():
            page.click("main form button[type=submit]:not([aria-hidden])")
    lead.goto(f"/applications/{application_id}")
    lead.shot("sections-written")
    # The header's search box finds it; each section keeps its versions.
    page.fill("#site-search-q", "Läslust")
    with page.expect_navigation():
        page.press("#site-search-q", "Enter")
    with page.expect_navigation():
        page.locator("main a", has_text="Läslust i sydost").first.click()
    lead.goto(f"/applications/{application_id}/sections")
    with page.expect_navigation():
        page.locator(".versions-link").first.click()
    assert page.locator("main table tbody tr").count() == 1     # version 1, by the lead
    assert "Lena Lindqvist" in page.locator("main table tbody").inner_text()

    # 3. The lead invites Växjö stadsbibliotek; its contact gets an email with a link.
    lead.goto(f"/applications/{application_id}/partners")
    page.select_option("#organisation_id", str(world.orgs["vaxjo"].id))
    page.fill("#contact_name", "Petra Partner")
    page.fill("#contact_email", "petra@vaxjo.example")
    with page.expect_navigation():
        page.click("form:has(#contact_email) button[type=submit]")
    lead.shot("partner-invited")
    run_worker()
    body = db.session.scalar(select(OutboxEmail.body).where(
        OutboxEmail.recipient == "petra@vaxjo.example"))
    link = re.search(r"https?://\S+/partner-invitations/\S+", body).group(0)
    db.session.rollback()  # end the read: SQLite would make the server's writes wait

    # 4. The partner opens the link, creates an account and adds its co-financing.
    partner = visitor()
    partner.page.goto(link)
    partner.page.fill("#account-name", "Petra Partner")
    partner.page.fill("#account-password", "ett långt lösenord 2026")
    partner.page.click("form:has(#account-name) button[type=submit]")
    partner.page.wait_for_url(re.compile(rf"/applications/{application_id}$"))
    partner.shot("partner-joined")
    partner.goto(f"/applications/{application_id}/budget")
    partner.page.select_option("#cofin-kind", "in_kind")
    partner.page.fill("#cofin-amount", "80 000")
    partner.page.fill("#cofin-description", "Personal och lokaler i Växjö")
    with partner.page.expect_navigation():
        partner.page.click("form[action$='/budget/cofinancing'] button[type=submit]")
    partner.shot("partner-cofinancing")

    # 5. The lead sends it to the partners; the partner's signatory confirms this version.
    lead.goto(f"/applications/{application_id}")
    fire(page, "send_to_partners")
    lead.shot("sent-to-partners")
    #    Petra names herself Växjö's authorised signatory first.
    partner.goto(f"/applications/{application_id}/partners")
    vaxjo = world.orgs["vaxjo"].id
    signatory_form = partner.page.locator(f"#signatory-{vaxjo} form")
    partner.page.locator(f"#signatory-{vaxjo} summary").click()
    signatory_form.locator("select").select_option(label="Petra Partner (petra@vaxjo.example)")
    signatory_form.locator(f"#s{vaxjo}-title").fill("Bibliotekschef")
    with partner.page.expect_navigation():
        signatory_form.locator("button[type=submit]").click()
    partner.goto(f"/applications/{application_id}/partners")
    confirm = partner.page.locator("form.confirm-form")
    confirm.locator("input[name=authorised]").check()
    with partner.page.expect_navigation():
        confirm.locator("button[type=submit]").click()
    partner.shot("partner-confirmed")

    # 6. Review, then the coordinator sends it to the steering group.
    lead.goto(f"/applications/{application_id}")
    fire(page, "send_to_review")
    coordinator = visitor().login("coordinator@demo.test")
    coordinator.goto(f"/applications/{application_id}")
    fire(coordinator.page, "send_to_steering")
    coordinator.shot("sent-to-steering")

    # 7. The member from the partner organisation is recused; two others approve — one of
    #    them with the keyboard only.
    recused = visitor().login("styrgrupp@vaxjo.example")
    recused.goto(f"/applications/{application_id}/decision")
    assert recused.page.locator("form.vote-form").count() == 0
    recused.shot("recused-member")
    first = visitor().login("steering1@demo.test")
    first.goto("/")
    first.page.click(f"a[href$='/applications/{application_id}/decision#decision']")
    first.page.check("input[name=choice][value=approve]")
    first.page.fill("form.vote-form textarea", "Väl förankrat i alla tre länen.")
    with first.page.expect_navigation():
        first.page.click("form.vote-form button[type=submit]")
    first.shot("first-vote")
    second = visitor().login("steering2@demo.test")
    second.goto(f"/applications/{application_id}/decision")
    second.page.focus("input[name=choice][value=approve]")
    second.page.keyboard.press("Space")
    second.page.keyboard.press("Tab")            # the comment
    second.page.keyboard.type("Bra.")
    second.page.keyboard.press("Tab")            # the button
    with second.page.expect_navigation():      # a real page load, not a script
        second.page.keyboard.press("Enter")
    second.shot("decided")
    db.session.expire_all()
    assert db.session.get(Application, application_id).state == "approved"
    db.session.rollback()

    # 8. The lead names herself the lead organisation's signatory and signs; she submits; the
    #    worker renders the PDF; the page updates by itself.
    kalmar = world.orgs["kalmar"].id
    lead.goto(f"/applications/{application_id}/partners")
    page.locator(f"#signatory-{kalmar} summary").click()
    lead_form = page.locator(f"#signatory-{kalmar} form")
    lead_form.locator("select").select_option(label="Lena Lindqvist (lead@demo.test)")
    lead_form.locator(f"#s{kalmar}-title").fill("Bibliotekschef")
    with page.expect_navigation():
        lead_form.locator("button[type=submit]").click()
    page.locator("#confirm-lead input[name=authorised]").check()
    with page.expect_navigation():
        page.locator("#confirm-lead button[type=submit]").click()
    lead.goto(f"/applications/{application_id}")
    fire(page, "submit")
    lead.goto(f"/applications/{application_id}/decision")   # the submission, its PDFs
    lead.shot("submitted")
    page.evaluate("window.stillTheSamePage = true")
    run_worker()
    download_link = page.locator("#submissions a", has_text=re.compile("Arkiv-PDF|Archival PDF"))
    download_link.wait_for(timeout=15_000)
    assert page.evaluate("window.stillTheSamePage === true")   # updated without a reload
    lead.shot("pdf-ready")
    with page.expect_download() as download:
        download_link.click()
    with open(download.value.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF") and len(content) > 10_000
    shots = sorted(lead.shots.glob("*.png"))
    assert len(shots) == 14 and all(p.stat().st_size > 10_000 for p in shots)
