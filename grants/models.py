"""Every model, imported once so that Alembic and the app see the whole schema."""

from grants.accounts.models import PasswordReset, User
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.approvals.models import Recusal, Vote, VoteRound
from grants.audit import AuditEvent
from grants.budget.models import BudgetLine, Cofinancing, VarianceExplanation
from grants.calls.models import Call, Funder
from grants.collaboration.models import ContentRevision, ShownContent
from grants.comments.models import Comment, CommentMention, CommentThread
from grants.deadlines.models import Reminder
from grants.definitions.models import DefinitionVersion
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job, JobStatus
from grants.notifications.models import (
    Invitation,
    Notification,
    NotificationDigest,
    NotificationPreference,
    OutboxEmail,
)
from grants.organisations.models import Organisation, OrganisationKind
from grants.partners.models import (
    ApplicationPartner,
    PartnerConfirmation,
    PartnerInvitation,
    Signatory,
)
from grants.reuse.models import ApplicationLink, ProjectGroup
from grants.search.models import SearchDocument
from grants.steering.models import SteeringGroup, SteeringMember
from grants.submissions.models import FunderDecision, Submission, SubmissionDocument
from grants.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Application", "ApplicationLink", "ApplicationPartner", "Attachment", "AuditEvent",
    "BudgetLine", "Call", "Cofinancing", "Comment", "CommentMention", "CommentThread",
    "ContentRevision", "ShownContent", "VoteRound",
    "DefinitionVersion", "Delivery", "DeliveryAttempt", "Document",
    "Funder", "FunderDecision", "Invitation", "Job", "JobStatus", "Notification",
    "NotificationDigest", "NotificationPreference", "Organisation",
    "OrganisationKind", "OutboxEmail", "PartnerConfirmation", "PartnerInvitation", "PasswordReset",
    "ProjectGroup", "Recusal", "Reminder", "SearchDocument", "SectionAnswer", "Signatory",
    "SteeringGroup",
    "SteeringMember", "Submission", "SubmissionDocument", "TransitionRecord", "User",
    "VarianceExplanation", "Vote", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
]
