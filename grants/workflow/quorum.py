"""Counting a steering group's votes against a transition's quorum rule. Pure Python.

Förvaltningslagen 16–18 §§: a member with a conflict of interest (jäv) takes no part in the
decision and does not count towards the quorum, so recused members are never `eligible`."""

from __future__ import annotations

from dataclasses import dataclass

from grants.workflow.definition import Quorum

APPROVE, CHANGES, ABSTAIN = "approve", "changes", "abstain"
CHOICES = (APPROVE, CHANGES, ABSTAIN)

# Outcomes
PENDING, APPROVED, REJECTED, TOO_FEW = "pending", "approved", "rejected", "too_few"


@dataclass(frozen=True)
class Tally:
    members: int            # everyone in the group
    eligible: int           # members who may vote (not recused)
    approve: int = 0
    changes: int = 0
    abstain: int = 0
    chair_vote: str | None = None   # the chair's vote, when the chair is eligible and voted
    chair_eligible: bool = False

    @property
    def voted(self) -> int:
        return self.approve + self.changes + self.abstain

    @property
    def remaining(self) -> int:
        return max(self.eligible - self.voted, 0)


def base(quorum: Quorum, tally: Tally) -> int:
    return tally.members if quorum.of == "members" else tally.eligible


def required_approvals(quorum: Quorum, tally: Tally) -> int:
    """How many approvals decide the matter."""
    if quorum.rule == "at_least":
        return int(quorum.n or 1)
    if quorum.rule == "all":
        return max(base(quorum, tally), 1)
    return base(quorum, tally) // 2 + 1   # majority: more than half


def _chair_can_break_tie(quorum: Quorum, tally: Tally) -> bool:
    return (quorum.rule == "majority" and quorum.tie == "chair" and tally.chair_eligible
            and base(quorum, tally) % 2 == 0)


def outcome(quorum: Quorum, tally: Tally) -> str:
    """APPROVED when the rule is met; REJECTED when approval has become impossible whatever
    the remaining members vote; TOO_FEW when there are not enough eligible members to ever
    reach the rule; PENDING otherwise. An abstention is not an approval."""
    need = required_approvals(quorum, tally)
    half = base(quorum, tally) // 2
    if tally.eligible == 0 or tally.eligible < need and not (
            _chair_can_break_tie(quorum, tally) and tally.eligible >= half):
        return TOO_FEW
    if tally.approve >= need:
        return APPROVED
    tie_possible = _chair_can_break_tie(quorum, tally) and tally.chair_vote in (None, APPROVE)
    if tally.remaining == 0 and tie_possible and tally.approve == half \
            and tally.chair_vote == APPROVE:
        return APPROVED
    if tally.approve + tally.remaining < need and not (
            tie_possible and tally.approve + tally.remaining >= half):
        return REJECTED
    return PENDING
