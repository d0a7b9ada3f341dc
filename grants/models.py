"""Every model, imported once so that Alembic and the app see the whole schema."""

from grants.accounts.models import PasswordReset, User
from grants.audit import AuditEvent
from grants.notifications.models import Invitation, Notification, OutboxEmail
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.approvals.models import DecisionRound, Recusal, Vote
from grants.steering.models import SteeringGroup, SteeringMember
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import Call, Funder
from grants.definitions.models import DefinitionVersion
from grants.deadlines.models import Reminder
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job, JobStatus
from grants.organisations.models import Organisation, OrganisationKind
from grants.submissions.models import FunderDecision, Submission
from grants.partners.models import ApplicationPartner, PartnerConfirmation, PartnerInvitation

__all__ = [
    "Application", "ApplicationPartner", "PartnerConfirmation", "BudgetLine", "Cofinancing", "PartnerInvitation", "Attachment", "AuditEvent", "Invitation", "Notification", "OutboxEmail", "Call", "DefinitionVersion", "Document", "Funder", "Job", "JobStatus", "Organisation",
    "OrganisationKind", "SectionAnswer", "SteeringGroup", "SteeringMember", "DecisionRound", "Vote", "Recusal", "TransitionRecord",
    "PasswordReset", "Reminder", "User", "Submission", "FunderDecision", "Delivery", "DeliveryAttempt",
]
