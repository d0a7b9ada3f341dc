"""The readable differences (grants/formengine/diff.py): word level, tables, numbers, lists."""

from grants.formengine.diff import (
    ADDED,
    LINE_KEYS,
    REMOVED,
    SAME,
    Piece,
    field_diff,
    list_diff,
    snapshot_diff,
    table_diff,
    word_diff,
)


def test_words_inserted_and_deleted_keep_the_rest():
    pieces = word_diff("Vi når äldre på Öland.", "Vi når unga och äldre i Kalmar.")
    assert "".join(p.text for p in pieces if p.kind != REMOVED) == \
        "Vi når unga och äldre i Kalmar."
    assert "".join(p.text for p in pieces if p.kind != ADDED) == "Vi når äldre på Öland."
    assert Piece(SAME, "Vi når ") in pieces and Piece(ADDED, "unga och ") in pieces
    assert Piece(REMOVED, "på Öland") in pieces and Piece(ADDED, "i Kalmar") in pieces
    assert word_diff("lika", "lika") == (Piece(SAME, "lika"),)
    assert word_diff(None, "ny") == (Piece(ADDED, "ny"),)


def test_numbers_and_choices_are_before_and_after():
    money = {"id": "amount", "type": "money", "label": None}
    change = field_diff(dict(money, value=450000), dict(money, value=500000))
    assert change.pieces == (Piece(REMOVED, "450\u00a0000\u00a0kr"),
                             Piece(ADDED, "500\u00a0000\u00a0kr"))
    day = {"id": "start", "type": "date", "label": None}
    assert field_diff(dict(day, value="2027-08-15"), dict(day, value="2027-09-01"),
                      "sv").pieces == (Piece(REMOVED, "15 augusti 2027"),
                                       Piece(ADDED, "1 september 2027"))
    choice = {"id": "status", "type": "choice", "label": None,
              "options": [{"value": "granted", "label": {"sv": "Beviljat", "en": "Granted"}},
                          {"value": "applied", "label": {"sv": "Sökt", "en": "Applied"}}]}
    change = field_diff(dict(choice, value="applied"), dict(choice, value="granted"), "en")
    assert change.pieces == (Piece(REMOVED, "Applied"), Piece(ADDED, "Granted"))
    assert not field_diff(dict(money, value=1), dict(money, value=1)).changed


def test_table_rows_changed_added_and_removed():
    columns = ({"id": "group", "type": "text", "label": None},
               {"id": "count", "type": "integer", "label": None})
    rows = table_diff(columns, [{"group": "Äldre", "count": 600}, {"group": "Unga", "count": 10}],
                      [{"group": "Äldre", "count": 650}, {"group": "Unga", "count": 10},
                       {"group": "Nyanlända", "count": 1250}])
    assert [r.kind for r in rows] == ["changed", "same", "added"]
    assert rows[0].cells[1].pieces == (Piece(REMOVED, "600"), Piece(ADDED, "650"))
    assert rows[2].cells[0].pieces == (Piece(ADDED, "Nyanlända"),)
    removed = table_diff(columns, [{"group": "Äldre", "count": 600}], [])
    assert [r.kind for r in removed] == ["removed"]


def test_budget_lines_and_whole_snapshots():
    line = {"organisation": "Kalmar", "category": "staff", "year": 2027,
            "description": "Projektledare", "amount": 100}
    change = list_diff([line], [dict(line, amount=120), line], LINE_KEYS)
    assert change.added == (dict(line, amount=120),) and change.removed == ()
    before = {"application": {"title": "A"}, "sections": [
        {"key": "summary", "title": None, "fields": [
            {"id": "summary", "type": "longtext", "label": None, "value": "gammal text"}]}],
        "partners": [], "budget": {"lines": [line], "cofinancing": [], "total_cost": 100}}
    after = {"application": {"title": "A"}, "sections": [
        {"key": "summary", "title": None, "fields": [
            {"id": "summary", "type": "longtext", "label": None, "value": "ny text"}]}],
        "partners": [{"name": "Växjö", "status": "active",
                      "contact": {"name": "Olle", "email": "o@x.se"}}],
        "budget": {"lines": [], "cofinancing": [], "total_cost": 0}}
    change = snapshot_diff(before, after)
    assert change.changed and [s.key for s in change.sections] == ["summary"]
    assert change.budget_lines.removed == (line,)
    assert change.partners.added[0]["name"] == "Växjö"
    assert change.totals == (("total_cost", 100, 0),)
    assert not snapshot_diff(before, before).changed
    assert snapshot_diff(before, after, only=set()).sections == ()
