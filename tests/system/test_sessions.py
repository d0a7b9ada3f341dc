"""Sessions and passwords (OWASP ASVS level 2, chapters 2 and 3): CSRF on every POST, cookie
flags, sessions ended by logout, password change and deactivation, a real secret in
production, password change and reset by email (single use, one hour, no enumeration)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from grants import create_app
from grants.accounts.models import PasswordReset, User
from grants.audit import AuditEvent
from grants.config import ConfigError, Settings
from grants.db import db, utcnow
from grants.notifications.models import OutboxEmail
from tests.conftest import Browser
from tests.factories import PASSWORD

NEW_PASSWORD = "en helt ny lösenordsfras 42"


def english(browser: Browser) -> Browser:
    """Messages added with this issue are asserted in English (their msgid)."""
    browser.post("/language", {"lang": "en"})
    return browser


def session_cookie(browser: Browser, name: str = "session") -> str | None:
    cookie = browser.client.get_cookie(name)
    return cookie.value if cookie else None


def with_cookie(app, name: str, value: str) -> Browser:
    """A new browser that has only this copied cookie (a stolen or left-behind session)."""
    other = Browser(app)
    other.client.set_cookie(name, value, domain="localhost")
    return other


# --- CSRF, cookies, secret ---------------------------------------------------------------------
def test_every_post_route_refuses_a_request_without_csrf_token(app, world, login_as):
    """Generated from the URL map: each POST route, without the token, as a coordinator (and
    the public ones anonymously), is turned away before it does anything."""
    from tests.system.test_access_matrix import state_of_database
    application = world.new_application()
    values = {"application_id": application.id, "partner_id": 1, "section_key": "summary",
              "name": "send_to_partners", "item_id": 1, "kind": "lines", "note_id": 1,
              "token": "x", "number": 1, "funder_id": 1, "call_id": 1, "org_id": 1,
              "user_id": 1, "group_id": 1}
    before = state_of_database()
    coordinator, anonymous = login_as("coordinator@demo.test"), Browser(app)
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(values.get(argument, 1)), url)
        for browser in (coordinator, anonymous):
            response = browser.post(url, {"summary": "x", "email": "lead@demo.test",
                                          "password": PASSWORD, "comment": "x",
                                          "state_version": "1", "version": "0"}, csrf=False)
            assert response.status_code in (302, 303), (url, response.status_code)
            posted += 1
    assert posted > 40
    assert state_of_database() == before
    assert coordinator.get("/").status_code == 200  # still logged in: logout was refused too


def test_session_cookie_is_httponly_and_samesite_lax(app, world, browser):
    response = browser.post("/login", {"email": "lead@demo.test", "password": PASSWORD,
                                       "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    remember = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session, remember):
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # development and tests run on http://


@pytest.fixture
def production_app(tmp_path, redis_url):
    settings = Settings(env="production", secret_key="k" * 8 + "-" + "0123456789abcdef" * 3,
                        database_url=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
                        redis_url=redis_url, instance_path=tmp_path / "prod",
                        queue_prefix="grants-test-prod-" + tmp_path.name[-8:])
    application = create_app(settings=settings)
    with application.app_context():
        db.create_all()
        from tests.factories import build_world
        build_world()
        db.session.remove()
    yield application
    with application.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure_and_hsts_is_sent(production_app):
    client = production_app.test_client()
    with production_app.app_context():
        page = client.get("/login", base_url="https://grants.example").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", base_url="https://grants.example", data={
            "csrf_token": token, "email": "lead@demo.test", "password": PASSWORD,
            "remember": "y"})
    assert response.status_code == 303
    for cookie in response.headers.getlist("Set-Cookie"):
        if cookie.startswith(("session=", "remember_token=")):
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("secret", ["", "changeme", "dev", "x" * 40, "too-short-but-random-9f3a"])
def test_production_refuses_to_start_without_a_real_secret_key(secret):
    with pytest.raises(ConfigError):
        Settings.from_env({"GRANTS_ENV": "production", "SECRET_KEY": secret})
    assert Settings.from_env({"GRANTS_ENV": "production",
                              "SECRET_KEY": "f3a9c2" + "0123456789abcdef" * 2,
                              "GRANTS_PUBLIC_URL": "https://bidrag.example.se"}).secret_key


@pytest.mark.parametrize("public_url", [None, "", "bidrag.example.se", "javascript:alert(1)"])
def test_production_refuses_to_start_without_the_address_email_links_point_to(public_url):
    environ = {"GRANTS_ENV": "production", "SECRET_KEY": "f3a9c2" + "0123456789abcdef" * 2}
    if public_url is not None:
        environ["GRANTS_PUBLIC_URL"] = public_url
    with pytest.raises(ConfigError, match="GRANTS_PUBLIC_URL"):
        Settings.from_env(environ)


def test_a_forged_host_header_never_reaches_a_link_in_an_email(app, world, browser,
                                                               smtp_server, run_worker):
    """Password-reset poisoning: the link must not take the Host the client sent. (Every
    link in an email is built by the same `absolute_url`; invitations are checked in their
    own tests to lead to GRANTS_PUBLIC_URL.)"""
    app.config["PUBLIC_URL"] = "https://bidrag.example.se"
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    with app.app_context():
        page = browser.client.get("/password/forgot", headers=forged).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        browser.client.post("/password/forgot", headers=forged,
                            data={"email": "lead@demo.test", "csrf_token": token})
    run_worker()
    assert [m.rcpt_tos for m in smtp_server.messages] == [["lead@demo.test"]]
    body = smtp_server.messages[0].content.decode()
    assert "evil.example" not in body
    assert re.search(r"https://bidrag\.example\.se/password/reset/[\w-]+", body)


# --- sessions end ------------------------------------------------------------------------------
def test_logout_ends_the_session_everywhere_including_copies_of_its_cookies(app, world):
    browser = Browser(app)
    browser.post("/login", {"email": "lead@demo.test", "password": PASSWORD, "remember": "y"})
    copied_session = session_cookie(browser)
    copied_remember = session_cookie(browser, "remember_token")
    assert with_cookie(app, "session", copied_session).get("/").status_code == 200
    assert browser.post("/logout").status_code == 303
    assert browser.get("/").status_code == 302
    # The cookie as it was before logging out (kept by an attacker, or another tab) is dead.
    assert with_cookie(app, "session", copied_session).get("/").status_code == 302
    assert with_cookie(app, "remember_token", copied_remember).get("/").status_code == 302


def test_password_change_needs_the_current_password_and_ends_other_sessions(app, world,
                                                                           login_as):
    here, elsewhere = english(login_as("lead@demo.test")), login_as("lead@demo.test")
    page = here.get("/account/password")
    assert page.status_code == 200 and "Change password" in page.get_data(as_text=True)
    wrong = here.post("/account/password", {"current_password": "fel lösenord",
                                            "new_password": NEW_PASSWORD,
                                            "repeat_password": NEW_PASSWORD})
    assert wrong.status_code == 422
    assert "This is not your current password." in wrong.get_data(as_text=True)
    mismatch = here.post("/account/password", {"current_password": PASSWORD,
                                               "new_password": NEW_PASSWORD,
                                               "repeat_password": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 422
    short = here.post("/account/password", {"current_password": PASSWORD,
                                            "new_password": "kort", "repeat_password": "kort"})
    assert short.status_code == 422
    assert world.user("lead").check_password(PASSWORD)

    done = here.post("/account/password", {"current_password": PASSWORD,
                                           "new_password": NEW_PASSWORD,
                                           "repeat_password": NEW_PASSWORD})
    assert done.status_code == 303
    assert world.user("lead").check_password(NEW_PASSWORD)
    assert here.get("/").status_code == 200       # this session goes on
    assert elsewhere.get("/").status_code == 302  # every other one has ended
    assert Browser(app).login("lead@demo.test", PASSWORD).status_code == 422
    assert Browser(app).login("lead@demo.test", NEW_PASSWORD).status_code == 303
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "user.password_change"))
    assert event.actor_id == world.users["lead"].id
    assert event.before is None and event.after is None  # never the password or its hash


def test_deactivation_ends_sessions(app, world, login_as):
    """(Also tests/features/admin/test_admin.py::test_deactivating_a_user_ends_their_sessions.)"""
    lead = login_as("lead@demo.test")
    copied = session_cookie(lead)
    login_as("coordinator@demo.test").post(f"/admin/users/{world.users['lead'].id}", {
        "organisation_ids": [world.orgs["kalmar"].id]})
    assert lead.get("/").status_code == 302
    assert with_cookie(app, "session", copied).get("/").status_code == 302


# --- password reset ----------------------------------------------------------------------------
def _reset_link(smtp_server, recipient: str) -> str:
    messages = [m for m in smtp_server.messages if m.rcpt_tos == [recipient]]
    assert len(messages) == 1, [m.rcpt_tos for m in smtp_server.messages]
    body = email.message_from_bytes(messages[0].content,
                                    policy=email.policy.default).get_content()
    return re.search(r"https://bidrag\.test(/password/reset/[\w-]+)", body).group(1)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def test_reset_request_answers_the_same_for_every_address(app, world, browser, smtp_server,
                                                          run_worker):
    world.user("other_lead").is_active_account = False
    db.session.commit()
    english(browser)
    form = browser.get("/password/forgot")
    assert form.status_code == 200 and "Forgot your password?" in form.get_data(as_text=True)
    answers = []
    for address in ("lead@demo.test", "LEAD@demo.test ", "nobody@demo.test",
                    "other@demo.test"):  # an account, its other spelling, none, deactivated
        response = browser.post("/password/forgot", {"email": address})
        answers.append((response.status_code, _without_tokens(response.get_data(as_text=True))))
    assert len(set(answers)) == 1 and answers[0][0] == 200
    assert "If there is an account with that address" in answers[0][1]
    run_worker()
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["lead@demo.test"] * 2


def test_reset_link_works_once_for_one_hour_and_ends_every_session(app, world, browser,
                                                                   login_as, smtp_server,
                                                                   run_worker):
    logged_in = login_as("lead@demo.test")
    browser.post("/password/forgot", {"email": "lead@demo.test"})
    run_worker()
    link = _reset_link(smtp_server, "lead@demo.test")
    token = link.rsplit("/", 1)[1]
    row = db.session.scalar(select(PasswordReset))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()  # never the token
    assert timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)

    visitor = Browser(app)
    assert visitor.get(link).status_code == 200
    refused = visitor.post(link, {"new_password": "kort", "repeat_password": "kort"})
    assert refused.status_code == 422
    done = visitor.post(link, {"new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"].endswith("/login")
    assert world.user("lead").check_password(NEW_PASSWORD)
    assert logged_in.get("/").status_code == 302  # every session of the account has ended
    # Used: the same link again does nothing.
    again = Browser(app)
    assert again.get(link).status_code == 404
    assert again.post(link, {"new_password": "ännu en ny fras 77",
                             "repeat_password": "ännu en ny fras 77"}).status_code == 404
    assert world.user("lead").check_password(NEW_PASSWORD)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "user.password_reset")) == 1


def test_expired_and_superseded_reset_links_are_refused(app, world, browser, smtp_server,
                                                        run_worker):
    browser.post("/password/forgot", {"email": "lead@demo.test"})
    run_worker()
    first = _reset_link(smtp_server, "lead@demo.test")
    db.session.execute(update(PasswordReset).values(
        expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert Browser(app).get(first).status_code == 404
    assert Browser(app).post(first, {"new_password": NEW_PASSWORD,
                                     "repeat_password": NEW_PASSWORD}).status_code == 404
    assert world.user("lead").check_password(PASSWORD)
    # Two fresh links: using one voids the other.
    smtp_server.messages.clear()
    browser.post("/password/forgot", {"email": "lead@demo.test"})
    browser.post("/password/forgot", {"email": "lead@demo.test"})
    run_worker()
    links = [re.search(r"(/password/reset/[\w-]+)", email.message_from_bytes(
        m.content, policy=email.policy.default).get_content()).group(1)
        for m in smtp_server.messages]
    assert len(links) == 2
    assert Browser(app).post(links[0], {"new_password": NEW_PASSWORD,
                                        "repeat_password": NEW_PASSWORD}).status_code == 303
    assert Browser(app).get(links[1]).status_code == 404
    assert Browser(app).get("/password/reset/not-a-token").status_code == 404


def test_reset_requests_are_rate_limited_without_telling(app, world, browser, smtp_server,
                                                         run_worker):
    for _attempt in range(8):
        assert browser.post("/password/forgot", {"email": "lead@demo.test"}).status_code == 200
    run_worker()
    assert db.session.scalar(select(func.count(OutboxEmail.id))) == 5  # RESETS_PER_ACCOUNT
    assert len(smtp_server.messages) == 5


def test_user_loader_refuses_a_session_of_an_earlier_generation(app, world):
    from grants.web import load_user
    user = world.user("lead")
    assert load_user(f"{user.id}:{user.session_generation}").id == user.id
    assert load_user(f"{user.id}:{user.session_generation + 1}") is None
    assert load_user(f"{user.id}") is None and load_user("x:y") is None
    assert db.session.scalar(select(User.id).where(User.id == user.id))


def test_a_production_start_without_settings_says_what_to_set_without_a_traceback(tmp_path):
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from grants.config import PROJECT_ROOT  # noqa: PLC0415
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GRANTS_ENV": "production",
           "GRANTS_INSTANCE_PATH": str(tmp_path / "instance")}
    for extra, expected in [({}, "SECRET_KEY must be set in production"),
                            ({"SECRET_KEY": "f3a9c2" + "0123456789abcdef" * 2},
                             "GRANTS_PUBLIC_URL must be set in production")]:
        start = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
                               cwd=PROJECT_ROOT, env={**env, **extra}, capture_output=True,
                               text=True, timeout=60)
        assert start.returncode == 1 and expected in start.stderr
        assert "Traceback" not in start.stderr
