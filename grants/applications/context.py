"""What a transition's guards and effects see: the application, who acts, its workflow and form
version, its answers and partners, and notes the effects leave for each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grants.accounts.models import User
from grants.applications.models import Application
from grants.formengine.definition import FormDef
from grants.workflow.definition import Workflow


@dataclass
class TransitionContext:
    application: Application
    actor: User
    workflow: Workflow
    form: FormDef
    answers: dict[str, dict[str, Any]]
    comment: str = ""
    partners: list = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
