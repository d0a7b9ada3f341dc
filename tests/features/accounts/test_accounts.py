import time

from grants.organisations.orgnr import is_valid, luhn_check_digit, make_fictional, normalise
from tests.conftest import Browser


def test_anonymous_requests_redirect_to_login(client, world):
    for url in ["/", "/applications/new", "/applications/1"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    assert client.get("/login").status_code == 200
    assert client.get("/health").status_code == 200


def test_login_with_right_password_and_logout(browser, world):
    response = browser.login("lead@demo.test")
    assert response.status_code == 303
    page = browser.get("/").get_data(as_text=True)
    assert "Lena Lindqvist" in page
    response = browser.post("/logout")
    assert response.status_code == 303
    assert browser.get("/").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_message(browser, world):
    wrong = browser.login("lead@demo.test", "not-it")
    unknown = browser.login("nobody@demo.test", "not-it")
    assert wrong.status_code == unknown.status_code == 422
    for response in (wrong, unknown):
        html = response.get_data(as_text=True)
        assert "E-postadressen eller lösenordet är fel." in html
        assert 'id="error-summary"' in html


def test_login_form_errors_beside_fields_and_in_summary(browser, world):
    html = browser.post("/login", {"email": "", "password": ""}).get_data(as_text=True)
    assert html.count("Fyll i din e-postadress.") == 2  # summary + beside field
    assert html.count("Fyll i ditt lösenord.") == 2
    assert 'href="#email"' in html and 'href="#password"' in html


def test_post_without_csrf_token_changes_nothing(browser, world):
    browser.login("lead@demo.test")
    response = browser.post("/logout", csrf=False)
    assert response.status_code == 303
    assert browser.get("/").status_code == 200  # still logged in


def test_logout_is_post_only(browser, world):
    browser.login("lead@demo.test")
    assert browser.get("/logout").status_code == 405


def test_deactivated_user_cannot_log_in(browser, world):
    from grants.db import db
    user = world.user("lead")
    user.is_active_account = False
    db.session.commit()
    assert browser.login("lead@demo.test").status_code == 422


def test_open_redirect_after_login_is_refused(browser, world):
    response = browser.post("/login?next=https://evil.example/", {
        "email": "lead@demo.test", "password": "demo-password"})
    assert response.headers["Location"] == "/"


def test_organisation_number_luhn():
    assert luhn_check_digit("202100544") == 8  # Skatteverket 202100-5448
    assert normalise("2021005448") == "202100-5448"
    assert is_valid("202100-5448")
    assert not is_valid("202100-5449")
    assert not is_valid("20210-05448")
    assert not is_valid("")
    for seed in range(50):
        assert is_valid(make_fictional(seed))


def test_production_refuses_to_start_without_secret_key():
    import pytest

    from grants.config import ConfigError, Settings
    with pytest.raises(ConfigError):
        Settings.from_env({"GRANTS_ENV": "production",
                           "GRANTS_PUBLIC_URL": "https://bidrag.example.se"})


def test_organisation_refuses_an_invalid_number(app):
    import pytest

    from grants.organisations.models import Organisation, OrganisationKind
    org = Organisation(name="Test", county="Kalmar län", kind=OrganisationKind.public_library,
                       org_number="2021005448")
    assert org.org_number == "202100-5448"
    with pytest.raises(ValueError):
        Organisation(name="Fel", county="Kalmar län", kind=OrganisationKind.public_library,
                     org_number="202100-5449")


def test_login_is_rate_limited_per_account_without_revealing_accounts(browser, world):
    for _attempt in range(10):
        assert browser.login("lead@demo.test", "fel").status_code == 422
    blocked = browser.login("lead@demo.test", "demo-password")  # even the right password
    assert blocked.status_code == 429
    assert "För många inloggningsförsök." in blocked.get_data(as_text=True)
    for _attempt in range(10):
        browser.login("nobody@demo.test", "fel")
    assert browser.login("nobody@demo.test", "fel").status_code == 429  # same for unknown
    assert browser.login("steering1@demo.test").status_code == 303  # other accounts unaffected


def _fresh_login(app, email: str, password: str = "demo-password") -> int:
    """One login from a new browser (the same address as every other test request)."""
    return Browser(app).login(email, password).status_code


def test_correct_logins_never_count_toward_the_limit(app, world):
    # More correct logins to one account than its failure limit (10), and more from one
    # address than the address limit (here 12): a municipality behind one NAT address.
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "12 per 15 minutes"
    for _attempt in range(30):
        assert _fresh_login(app, "lead@demo.test") == 303
    for email in ["other@demo.test", "steering1@demo.test", "steering2@demo.test",
                  "coordinator@demo.test"]:
        assert _fresh_login(app, email) == 303


def test_wrong_passwords_lock_the_account_with_429(app, world):
    statuses = [_fresh_login(app, "other@demo.test", "fel") for _attempt in range(15)]
    assert statuses == [422] * 10 + [429] * 5
    assert _fresh_login(app, "other@demo.test") == 429  # locked: even the right password
    assert _fresh_login(app, "lead@demo.test") == 303  # another account from the same address


def test_a_success_clears_the_accounts_failures(app, world):
    for _attempt in range(9):
        assert _fresh_login(app, "lead@demo.test", "fel") == 422
    assert _fresh_login(app, "lead@demo.test") == 303
    for _attempt in range(9):  # counting starts again: nine more are still not a lock
        assert _fresh_login(app, "lead@demo.test", "fel") == 422
    assert _fresh_login(app, "lead@demo.test") == 303


def test_failures_from_one_address_lock_that_address(app, world):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = "12 per 15 minutes"
    accounts = ["other@demo.test", "steering1@demo.test", "steering2@demo.test"]
    for attempt in range(12):  # four failures each: no account reaches its own limit
        assert _fresh_login(app, accounts[attempt % 3], "fel") == 422
    assert _fresh_login(app, "coordinator@demo.test") == 429  # the address is locked
    elsewhere = Browser(app).post("/login", {"email": "coordinator@demo.test",
                                             "password": "demo-password"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert elsewhere.status_code == 303  # another address is not


def test_a_correct_login_works_again_when_the_lock_expires(app, world):
    # A short window, so that the test can wait for it to pass. All ten failures must fall
    # inside it (the window moves: once the first failure is older than the window, nine are
    # left and the account is open again). Each failure costs a scrypt check and a page,
    # about 0.15 s on an idle machine and well over 0.2 s on a busy one, so a 2-second window
    # was too tight; the wait is counted from the first failure, not from the last.
    window = 5
    app.config["LOGIN_FAILURES_PER_ACCOUNT"] = f"10 per {window} seconds"
    started = time.monotonic()
    for _attempt in range(10):
        assert _fresh_login(app, "steering2@demo.test", "fel") == 422
    took = time.monotonic() - started
    assert _fresh_login(app, "steering2@demo.test") == 429, \
        f"not locked: the ten failures took {took:.1f} s of the {window} s window"
    time.sleep(max(0.0, started + window + 1 - time.monotonic()))  # the window has passed
    assert _fresh_login(app, "steering2@demo.test") == 303
