"""Fuzzing every form: hypothesis posts random strings, huge values, odd Unicode, NUL bytes and
lists to every POST route of the URL map (with the field names its forms really have), and
random query strings to every page. Nothing may answer with a server error.

The examples are derandomized (the same every run, so CI is stable); each route gets
FUZZ_EXAMPLES of them (environment variable, default 10; half that for query strings) – raise
it to search harder."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Browser
from tests.system.test_access_matrix import ROLES, ROUTES, build, setting  # noqa: F401 - fixture

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SKIP = {"accounts.logout"}  # ends the fuzzing session itself

ODD = ["", " ", "0", "-1", "1e309", "NaN", "99999999999999999999999999", "1 000,50",
       "2027-02-30", "0000-00-00", "9999-12-31T99:99", "null", "true", "y", "on", "[]", "{}",
       "\u202ertl\u202c", "ｆｕｌｌｗｉｄｔｈ", "١٢٣", "²³", "Å\u030a", "\ufeffBOM", "e\u0301",
       "\r\n", "\t", "a\x00b", "\x00", "%00", "../../etc/passwd", "<script>x</script>",
       "' OR 1=1 --", "😀" * 20, "\U0010fffd", "x" * 5000]
CONTROL = st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Zl", "Mn", "So", "Lo"))
SCALAR = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=30),
    # Text a validator accepts, with control characters (NUL too), marks, spaces and symbols.
    st.builds(lambda a, b: f"Text {a}{b}", st.text(CONTROL, min_size=1, max_size=8),
              st.sampled_from(["", " åäö", "\x00", "\u2028"])),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "å", "😀", "\n"]),
              st.integers(min_value=10_000, max_value=100_000)),
)
VALUE = st.one_of(SCALAR, st.lists(SCALAR, max_size=3))
EVERY_FIELD_GETS = ["Text med NUL \x00 i mitten", "Å" * 20_000]  # above every field's limit
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))
FUZZ_QUERY = settings(FUZZ, max_examples=max(1, EXAMPLES // 2))


def plausible(name: str, kind: str, value: str) -> str:
    """A value the form would likely accept, so that fuzzing one field reaches the code (and
    the database) behind the validation of the others."""
    if value:
        return value
    lowered = name.lower()
    if kind == "email" or "email" in lowered:
        return "fuzz@example.org"
    if kind == "password" or "password" in lowered:
        return "demo-password"
    if kind == "date" or lowered.endswith(("date", "_start", "_end", "-start", "-end")):
        return "2027-05-01"
    if kind == "datetime-local" or lowered.endswith("_at"):
        return "2027-05-01T12:00"
    if "year" in lowered:
        return "2027"
    if "org_number" in lowered:
        return "202100-5448"
    if any(word in lowered for word in ("amount", "count", "days", "percent", "max_", "min_")):
        return "1000"
    return "Text åäö"


class FormFields(HTMLParser):
    """Every form on a page, by its target: field names with a plausible value each."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page = page_url
        self.forms: dict[tuple[str, str], dict[str, str]] = {}
        self._current: tuple[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def _set(self, name: str, value: str, *, first: bool = False) -> None:
        fields = self.forms[self._current]
        if first and fields.get(name):
            return
        fields[name] = value

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(attrs.get("action") or self.page).path
            self._current = ((attrs.get("method") or "get").lower(), action)
            self.forms.setdefault(self._current, {})
            return
        if not self._current:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self._set(name, attrs.get("value", "y"), first=kind == "radio" or
                          "checked" not in attrs)
            elif kind not in ("submit", "button", "file"):
                self._set(name, plausible(name, kind, attrs.get("value", "")))
        elif tag == "button" and name:
            self._set(name, attrs.get("value", ""), first=True)
        elif tag == "select" and name:
            self._select = name
            self._set(name, "", first=True)
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if "selected" in attrs or (value and not self.forms[self._current].get(
                    self._select)):
                self._set(self._select, value)
        elif tag == "textarea" and name:
            self._textarea = name
            self._set(name, "")

    def handle_data(self, data):
        if self._textarea and self._current:
            self.forms[self._current][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            fields = self.forms[self._current] if self._current else {}
            if self._current and not fields.get(self._textarea).strip():
                fields[self._textarea] = plausible(self._textarea, "textarea", "")
            self._textarea = None


def harvest(browser: Browser, app, values) -> dict[tuple[str, str], dict[str, str]]:
    forms: dict[tuple[str, str], dict[str, str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = build(rule, values)
        response = browser.get(url)
        if response.mimetype == "text/html":
            parser = FormFields(url)
            parser.feed(response.get_data(as_text=True))
            for key, fields in parser.forms.items():
                for name, value in fields.items():
                    forms.setdefault(key, {}).setdefault(name, value)
        response.close()
    return forms


def fuzz_posts(browser: Browser, url: str, base: dict[str, str]) -> None:
    """Start from a plausible submission of the form and replace one to three of its fields
    (or add unknown ones) with hostile values."""
    base = {k: v for k, v in base.items() if k != "csrf_token"} or {"x": ""}
    names = sorted(base)

    @FUZZ
    @given(hostile=st.dictionaries(st.sampled_from(names), VALUE, min_size=1, max_size=3),
           extra=st.dictionaries(st.text(min_size=1, max_size=12).filter(
               lambda k: k != "csrf_token"), SCALAR, max_size=2))
    def post(hostile, extra):
        response = browser.post(url, {**extra, **base, **hostile})
        response.close()
        assert response.status_code < 500, (url, response.status_code)
    # Besides the random examples, every field once with each of these in an otherwise
    # plausible form: the values most likely to get past validation and hurt further in.
    for name in names:
        for value in EVERY_FIELD_GETS:
            post = example(hostile={name: value}, extra={})(post)
    post()


def fuzz_query(browser: Browser, url: str, names: set[str]) -> None:
    names = sorted(names | {"page", "format", "application", "call", "next", "lang"})

    @FUZZ_QUERY
    @given(data=st.fixed_dictionaries({}, optional={name: SCALAR for name in names}))
    def get(data):
        response = browser.get(url, query_string={k: v[:2000] for k, v in data.items()})
        response.close()
        assert response.status_code < 500, (url, response.status_code)
    get()


def test_no_form_post_gives_a_server_error(app, setting):
    coordinator = Browser(app)
    coordinator.login(ROLES["coordinator"])
    forms = harvest(coordinator, app, setting["T"])
    every_field = {k: v for fields in forms.values() for k, v in fields.items()}
    fuzzed = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in SKIP:
            continue
        url = build(rule, setting["T"])
        # A form not on any page in this state: every field name seen anywhere.
        fields = forms.get(("post", url)) or every_field
        browser = coordinator
        if ROUTES.get(rule.endpoint, {}).get("public"):
            browser = Browser(app)  # public forms as an anonymous visitor
            browser.csrf_token("/login")
        fuzz_posts(browser, url, fields)
        fuzzed += 1
    assert fuzzed >= 40
    assert coordinator.get("/").status_code == 200  # and the coordinator is still logged in


def test_no_query_string_gives_a_server_error(app, setting):
    lead = Browser(app)
    lead.login(ROLES["coordinator"])
    forms = harvest(lead, app, setting["T"])
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static",):
            continue
        url = build(rule, setting["T"])
        fuzz_query(lead, url, set(forms.get(("get", url), {})))
