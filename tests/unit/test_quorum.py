"""Quorum rules counted by the pure engine, and the checks on `quorum:` in workflow files."""

import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grants.workflow.definition import Quorum
from grants.workflow.loader import check_source
from grants.workflow.quorum import (
    APPROVED,
    PENDING,
    REJECTED,
    TOO_FEW,
    Tally,
    outcome,
    required_approvals,
)
from grants.workflow.yamlsource import SourceInvalid, parse_located_yaml

MAJORITY = Quorum("majority", otherwise="back")
MAJORITY_CHAIR = Quorum("majority", otherwise="back", tie="chair")
MAJORITY_OF_MEMBERS = Quorum("majority", of="members", otherwise="back")
ALL = Quorum("all", otherwise="back")
AT_LEAST_3 = Quorum("at_least", n=3, otherwise="back")


def t(members, eligible, approve=0, changes=0, abstain=0, chair=None, chair_eligible=False):
    return Tally(members=members, eligible=eligible, approve=approve, changes=changes,
                 abstain=abstain, chair_vote=chair, chair_eligible=chair_eligible)


@pytest.mark.parametrize("quorum, tally, expected", [
    # Majority of eligible: more than half must approve, and it is decided as soon as it is.
    (MAJORITY, t(5, 5, approve=3), APPROVED),
    (MAJORITY, t(5, 5, approve=2), PENDING),
    (MAJORITY, t(5, 5, approve=2, changes=3), REJECTED),
    (MAJORITY, t(5, 5, approve=2, changes=1, abstain=1), PENDING),   # one vote left can decide
    (MAJORITY, t(5, 5, approve=2, changes=1, abstain=2), REJECTED),  # abstention ≠ approval
    # A tie is not a majority …
    (MAJORITY, t(4, 4, approve=2, changes=2), REJECTED),
    # … unless the chair's vote decides it.
    (MAJORITY_CHAIR, t(4, 4, approve=2, changes=2, chair="approve", chair_eligible=True),
     APPROVED),
    (MAJORITY_CHAIR, t(4, 4, approve=2, changes=2, chair="changes", chair_eligible=True),
     REJECTED),
    (MAJORITY_CHAIR, t(4, 4, approve=2, changes=1, chair="approve", chair_eligible=True),
     PENDING),
    (MAJORITY_CHAIR, t(4, 4, approve=1, changes=2, chair=None, chair_eligible=True), PENDING),
    (MAJORITY_CHAIR, t(4, 4, approve=2, changes=2, chair=None, chair_eligible=False), REJECTED),
    # Recused members do not count: 2 of 3 eligible is a majority although the group has 5.
    (MAJORITY, t(5, 3, approve=2), APPROVED),
    (MAJORITY, t(5, 0), TOO_FEW),
    # Majority of all members: recused members count in the base but cannot vote.
    (MAJORITY_OF_MEMBERS, t(5, 3, approve=2), PENDING),
    (MAJORITY_OF_MEMBERS, t(5, 3, approve=3), APPROVED),
    (MAJORITY_OF_MEMBERS, t(5, 2), TOO_FEW),
    # All: every eligible member approves; one request for changes or abstention ends it.
    (ALL, t(3, 3, approve=3), APPROVED),
    (ALL, t(3, 3, approve=2), PENDING),
    (ALL, t(3, 3, approve=2, abstain=1), REJECTED),
    (ALL, t(3, 2, approve=2), APPROVED),
    # At least n.
    (AT_LEAST_3, t(5, 5, approve=3), APPROVED),
    (AT_LEAST_3, t(5, 5, approve=2, changes=2), PENDING),
    (AT_LEAST_3, t(5, 5, approve=2, changes=3), REJECTED),
    (AT_LEAST_3, t(5, 2), TOO_FEW),
    (AT_LEAST_3, t(5, 3, approve=1, changes=1), REJECTED),
])
def test_quorum_rules(quorum, tally, expected):
    assert outcome(quorum, tally) == expected


@given(st.integers(1, 12).flatmap(lambda members: st.tuples(
    st.just(members), st.integers(0, members))).flatmap(lambda me: st.tuples(
        st.just(me[0]), st.just(me[1]), st.lists(st.sampled_from(["approve", "changes",
                                                                   "abstain"]),
                                                 max_size=me[1]))),
       st.sampled_from([MAJORITY, MAJORITY_CHAIR, MAJORITY_OF_MEMBERS, ALL, AT_LEAST_3]))
def test_outcomes_are_final_and_consistent(case, quorum):
    members, eligible, votes = case
    tally = Tally(members=members, eligible=eligible, approve=votes.count("approve"),
                  changes=votes.count("changes"), abstain=votes.count("abstain"),
                  chair_vote=votes[0] if votes else None, chair_eligible=eligible > 0)
    result = outcome(quorum, tally)
    # Approved means the rule is met (or the chair broke an exact tie).
    if result == APPROVED:
        assert tally.approve >= required_approvals(quorum, tally) or (
            quorum.tie == "chair" and tally.approve * 2 == eligible)
    # Rejected means no remaining votes can reach approval.
    if result == REJECTED:
        best = Tally(members=members, eligible=eligible, approve=tally.approve + tally.remaining,
                     changes=tally.changes, abstain=tally.abstain, chair_vote=tally.chair_vote,
                     chair_eligible=tally.chair_eligible)
        assert outcome(quorum, best) != APPROVED
    # Pending means there are still votes to cast.
    if result == PENDING:
        assert tally.remaining > 0


WORKFLOW = textwrap.dedent("""\
    title: {sv: Test, en: Test}
    version: 1
    initial: review
    roles: [lead, steering]
    states:
      review:
        label: {sv: Granskning, en: Review}
      done:
        label: {sv: Klar, en: Done}
        terminal: true
      draft:
        label: {sv: Utkast, en: Draft}
    transitions:
      - name: approve
        label: {sv: Godkänn, en: Approve}
        from: [review]
        to: done
        by: [steering]
        quorum: QUORUM
      - name: back
        label: {sv: Tillbaka, en: Back}
        from: [review]
        to: draft
        by: [lead]
      - name: resend
        label: {sv: Skicka igen, en: Send again}
        from: [draft]
        to: review
        by: [lead]
    """)


def load(quorum: str):
    text = WORKFLOW.replace("QUORUM", quorum)
    return check_source(parse_located_yaml(text, "workflows/test.yaml"), "test",
                        {"form_complete"}, set())


def problems(quorum: str, extra: str = "") -> list[str]:
    with pytest.raises(SourceInvalid) as raised:
        text = WORKFLOW.replace("QUORUM", quorum)
        if extra:
            text = text.replace("    quorum:", extra + "    quorum:")
        check_source(parse_located_yaml(text, "workflows/test.yaml"), "test",
                     {"form_complete"}, set())
    return [str(p) for p in raised.value.problems]


def test_a_valid_quorum_is_read():
    workflow = load("{rule: at_least, n: 2, otherwise: back}")
    assert workflow.transitions["approve"].quorum == Quorum("at_least", n=2, otherwise="back")
    assert load("{rule: majority, tie: chair, of: members, otherwise: back}") \
        .transitions["approve"].quorum.tie == "chair"


@pytest.mark.parametrize("quorum, message", [
    ("{rule: most, otherwise: back}", "'quorum.rule' of transition 'approve' must be one of "
                                      "majority, all, at_least."),
    ("{rule: at_least, otherwise: back}", "'quorum.n' of transition 'approve' must be a whole "
                                          "number ≥ 1 with rule at_least"),
    ("{rule: at_least, n: 0, otherwise: back}", "must be a whole number ≥ 1"),
    ("{rule: majority, n: 2, otherwise: back}", "'quorum.n' of transition 'approve' is only "
                                                "used with rule at_least"),
    ("{rule: majority, of: everyone, otherwise: back}", "'quorum.of' of transition 'approve' "
                                                        "must be one of eligible, members."),
    ("{rule: all, tie: chair, otherwise: back}", "'quorum.tie: chair' of transition 'approve' "
                                                 "only applies to rule majority."),
    ("{rule: majority}", "needs 'otherwise': the transition fired when the votes make "
                         "approval impossible"),
    ("{rule: majority, otherwise: nowhere}", "names undefined transition 'nowhere'"),
    ("{rule: majority, otherwise: resend}", "names 'resend', which does not leave from review"),
    ("{rule: majority, otherwise: back, quroum: 2}", "unknown key 'quroum' in the quorum of "
                                                     "transition 'approve'"),
    ("majority", "'quorum' of transition 'approve' must be a mapping"),
])
def test_quorum_mistakes_are_reported_with_the_line(quorum, message):
    found = problems(quorum)
    assert any(message in p for p in found), found
    line = WORKFLOW[:WORKFLOW.index("quorum: QUORUM")].count("\n") + 1
    assert any(p.startswith(f"workflows/test.yaml:{line}") for p in found), found


def test_conditions_on_a_vote_and_two_votes_in_one_state_are_refused():
    found = problems("{rule: majority, otherwise: back}",
                     extra="    requires: [form_complete]\n")
    assert any("has a quorum and 'requires'" in p for p in found), found
    text = WORKFLOW.replace("QUORUM", "{rule: majority, otherwise: back}").replace(
        "    to: draft\n    by: [lead]\n",
        "    to: draft\n    by: [lead]\n    quorum: {rule: all, otherwise: approve}\n")
    with pytest.raises(SourceInvalid) as raised:
        check_source(parse_located_yaml(text, "workflows/test.yaml"), "test", set(), set())
    messages = [str(p) for p in raised.value.problems]
    assert any("more than one transition with a quorum" in m for m in messages), messages
