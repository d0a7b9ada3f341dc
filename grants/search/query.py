"""Running a search: the user's words as a query the database understands, the access rule
in SQL before anything is ranked or cut into snippets, one count and one page of results.

PostgreSQL: `websearch_to_tsquery('swedish', …)` (quoted phrases, `or`, `-word`; Swedish
stemming), the last word also as a prefix, `ts_rank` over the weighted tsvector,
`ts_headline` for the snippet. SQLite: the words become an FTS5 query made of quoted terms
only (no FTS5 syntax from the user reaches the parser), the last word a prefix, ranked by
`bm25` with the title weighing most, `snippet()` for the snippet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import Select, column, func, literal_column, select, table, text
from sqlalchemy.exc import DBAPIError

from grants.accounts.models import User
from grants.applications.access import visible_applications_filter
from grants.applications.models import Application
from grants.db import db
from grants.search.indexing import MARK_START, MARK_STOP
from grants.search.models import FTS_TABLE, TABLE, TSVECTOR_COLUMN, SearchDocument

PAGE_SIZE = 20
MAX_QUERY = 200
# bm25 weights of the FTS5 columns (title, meta, body): a word in the title counts most.
BM25_WEIGHTS = (10.0, 4.0, 1.0)
SNIPPET_WORDS = 24
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_STOP}, MaxWords=30, MinWords=12, "
                    "MaxFragments=2, FragmentDelimiter=\" … \"")

_TOKEN = re.compile(r'"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")


class QueryUnreadable(ValueError):
    """The database refused the query (shown as a message, never a server error)."""


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    negated: bool = False
    phrase: bool = False
    operator: str | None = None   # "OR" between two terms


@dataclass
class Hit:
    application: Application
    snippet: Markup


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 0


def parse(query: str) -> list[Term]:
    """The user's search as terms: words, "quoted phrases", -excluded words, OR between two
    terms. Everything that is not a letter or a digit only separates words."""
    terms: list[Term] = []
    for match in _TOKEN.finditer(query[:MAX_QUERY]):
        phrase, minus, bare = match.groups()
        if phrase is not None:
            words = tuple(_WORD.findall(phrase))
            if words:
                terms.append(Term(words, phrase=True))
            continue
        if bare in ("OR", "|"):
            terms.append(Term((), operator="OR"))
            continue
        words = tuple(_WORD.findall(bare))
        if not words:
            continue
        terms.append(Term(words, negated=bool(minus), phrase=len(words) > 1))
    # An OR needs a term on either side; an excluded word needs something included.
    cleaned: list[Term] = []
    for index, term in enumerate(terms):
        if term.operator:
            before = cleaned and not cleaned[-1].operator and not cleaned[-1].negated
            after = index + 1 < len(terms) and not terms[index + 1].operator \
                and not terms[index + 1].negated
            if before and after:
                cleaned.append(term)
            continue
        cleaned.append(term)
    if not any(not t.operator and not t.negated for t in cleaned):
        return []
    return cleaned


def _quoted(words: tuple[str, ...]) -> str:
    return '"' + " ".join(words) + '"'


def fts5_query(terms: list[Term]) -> str:
    """An FTS5 MATCH expression of quoted terms (a word in double quotes is only ever a
    word to FTS5); the last included single word also matches as a prefix."""
    parts: list[str] = []
    excluded: list[str] = []
    included = [t for t in terms if not t.operator and not t.negated]
    last = included[-1] if included else None
    for term in terms:
        if term.operator:
            parts.append("OR")
        elif term.negated:
            excluded.append(_quoted(term.words))
        else:
            quoted = _quoted(term.words)
            if term is last and not term.phrase:
                quoted += "*"
            parts.append(quoted)
    expression = " ".join(parts)
    for item in excluded:
        expression = f"({expression}) NOT {item}"
    return expression


_LAST_WORD = re.compile(r"(?:^|\s)(\w+)\s*$")
# An "or" with nothing on one side (websearch_to_tsquery would look for the word "or").
_DANGLING_OR = re.compile(r"^(?:\s*or\b)+|(?:\bor\s*)+$", re.IGNORECASE)


def websearch_text(query: str) -> tuple[str, str | None]:
    """For PostgreSQL: the search as the user typed it (websearch_to_tsquery reads quoted
    phrases, `or` and `-word`, and never fails), and its last word when that is a plain word
    outside quotes: it is matched as a prefix instead ("bibl" finds "biblioteket")."""
    query = _DANGLING_OR.sub(" ", query[:MAX_QUERY]).strip()
    match = _LAST_WORD.search(query)
    if match is None or query.count('"') % 2 or match.group(1).lower() == "or":
        return query, None
    head = query[:match.start(1)].strip()
    if re.search(r"(?:^|\s)or$", head, re.IGNORECASE):
        return query, None  # "a or b": the last word is one side of the or
    return head, match.group(1)


def highlighted(snippet: str | None) -> Markup:
    """The snippet escaped, with its matches (between the marks the database put) in
    <mark>: the text itself is never markup."""
    safe = str(escape(snippet or ""))
    return Markup(safe.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>"))  # noqa: S704


def _postgres(query_text: str):
    head, prefix = websearch_text(query_text)
    swedish = literal_column("'swedish'::regconfig")
    if prefix is None:
        tsquery = func.websearch_to_tsquery(swedish, head)
    else:
        # A word of letters and digits only: nothing in it is tsquery syntax.
        tsquery = func.to_tsquery(swedish, f"'{prefix}':*")
        if head:
            tsquery = func.websearch_to_tsquery(swedish, head).op("&&")(tsquery)
    query = select(tsquery.label("q")).subquery("q")
    vector = literal_column(f"{TABLE}.{TSVECTOR_COLUMN}")
    matches = vector.op("@@")(query.c.q)
    rank = func.ts_rank(vector, query.c.q)
    snippet = func.ts_headline(swedish,
                               func.concat_ws(" · ", SearchDocument.title, SearchDocument.meta,
                                              SearchDocument.body),
                               query.c.q, HEADLINE_OPTIONS)

    def base(*columns) -> Select:
        return (select(*columns).select_from(SearchDocument).join(query, text("true"))
                .join(Application, Application.id == SearchDocument.application_id)
                .where(matches))
    return base, rank.desc(), snippet


def _sqlite(terms: list[Term]):
    fts_table = table(FTS_TABLE, column("rowid"))
    fts = literal_column(FTS_TABLE)
    rowid = fts_table.c.rowid
    matches = fts.op("MATCH")(fts5_query(terms))
    rank = func.bm25(fts, *BM25_WEIGHTS)
    snippet = func.snippet(fts, -1, MARK_START, MARK_STOP, "…", SNIPPET_WORDS)

    def base(*columns) -> Select:
        return (select(*columns).select_from(fts_table)
                .join(Application, Application.id == rowid).where(matches))
    return base, rank.asc(), snippet


def search(user: User, query: str, page: int = 1) -> Results:
    """One page of what `user` may see that matches `query`, best first. Two statements
    however many match: the count, and the page (with its snippets)."""
    results = Results(query=query, page=max(1, page))
    terms = parse(query)
    if not terms:
        return results
    dialect = db.session.get_bind().dialect.name
    base, order, snippet = _postgres(query) if dialect == "postgresql" else _sqlite(terms)
    # What the user may not see is filtered out before it is ranked or cut into snippets.
    visible = visible_applications_filter(user)
    try:
        results.total = db.session.scalar(base(func.count()).where(visible)) or 0
        if not results.total:
            return results
        results.pages = -(-results.total // PAGE_SIZE)
        results.page = min(results.page, max(1, results.pages))
        rows = db.session.execute(
            base(Application, snippet.label("snippet")).where(visible)
            .order_by(order, Application.id)
            .limit(PAGE_SIZE).offset((results.page - 1) * PAGE_SIZE)).all()
    except DBAPIError as exc:
        db.session.rollback()
        raise QueryUnreadable(str(exc.orig)) from exc
    results.hits = [Hit(application, highlighted(text_)) for application, text_ in rows]
    return results
