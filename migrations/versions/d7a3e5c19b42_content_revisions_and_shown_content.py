"""collaboration: every version of sections, budget and partner list; content as shown

Revision ID: d7a3e5c19b42
Revises: c1df3cbfe9c9
Create Date: 2026-12-06 21:10:00

"""
import json
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

import grants.db


revision = 'd7a3e5c19b42'
down_revision = 'c1df3cbfe9c9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'target', 'number')
    )
    op.create_index('ix_content_revision_target', 'content_revision',
                    ['application_id', 'target', 'id'], unique=False)
    op.create_table('shown_content',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('kept_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'fingerprint')
    )
    op.create_index(op.f('ix_shown_content_application_id'), 'shown_content',
                    ['application_id'], unique=False)
    _keep_what_is_there_now()


def _keep_what_is_there_now():
    """Version 1 of every section, budget and partner list as it is at the upgrade, so the
    first save afterwards already has a previous version to compare with."""
    bind = op.get_bind()
    revision_table = sa.table('content_revision', sa.column('application_id'),
                              sa.column('target'), sa.column('number'),
                              sa.column('data', sa.JSON()), sa.column('saved_by_id'),
                              sa.column('saved_at', grants.db.UTCDateTime(timezone=True)))
    now = sa.func.now()
    rows = []
    sections = sa.text(
        "SELECT application_id, section_key, partner_id, data, updated_by_id, updated_at "
        "FROM section_answer").columns(
        sa.column("application_id", sa.Integer()), sa.column("section_key", sa.String()),
        sa.column("partner_id", sa.Integer()), sa.column("data", sa.JSON()),
        sa.column("updated_by_id", sa.Integer()),
        sa.column("updated_at", grants.db.UTCDateTime(timezone=True)))
    for app_id, key, partner_id, data, user_id, at in bind.execute(sections):
        rows.append({"application_id": app_id,
                     "target": key if partner_id is None else f"{key}@{partner_id}",
                     "number": 1, "data": json.loads(data) if isinstance(data, str) else data,
                     "saved_by_id": user_id, "saved_at": at})
    budgets = defaultdict(lambda: {"lines": [], "cofinancing": []})
    for app_id, org, category, year, description, amount in bind.execute(sa.text(
            "SELECT b.application_id, o.name, b.category, b.year, b.description, b.amount "
            "FROM budget_line b JOIN organisation o ON o.id = b.organisation_id "
            "ORDER BY b.application_id, b.organisation_id, b.year, b.id")):
        budgets[app_id]["lines"].append({"organisation": org, "category": category,
                                         "year": year, "description": description,
                                         "amount": int(amount)})
    for app_id, org, kind, source, year, description, amount in bind.execute(sa.text(
            "SELECT c.application_id, o.name, c.kind, c.source, c.year, c.description, c.amount "
            "FROM cofinancing c JOIN organisation o ON o.id = c.organisation_id "
            "ORDER BY c.application_id, c.organisation_id, c.year, c.id")):
        budgets[app_id]["cofinancing"].append({"organisation": org, "kind": kind,
                                               "source": source, "year": year,
                                               "description": description,
                                               "amount": int(amount)})
    partners = defaultdict(list)
    for app_id, pid, org, status, name, email in bind.execute(sa.text(
            "SELECT p.application_id, p.id, o.name, p.status, p.contact_name, p.contact_email "
            "FROM application_partner p JOIN organisation o ON o.id = p.organisation_id "
            "WHERE p.status != 'removed' ORDER BY p.application_id, p.id")):
        partners[app_id].append({"id": pid, "name": org, "status": status,
                                 "contact": {"name": name, "email": email}})
    for app_id, budget in budgets.items():
        rows.append({"application_id": app_id, "target": "budget", "number": 1,
                     "data": budget, "saved_by_id": None, "saved_at": None})
    for app_id, listed in partners.items():
        rows.append({"application_id": app_id, "target": "partners", "number": 1,
                     "data": {"partners": listed}, "saved_by_id": None, "saved_at": None})
    for row in rows:
        values = dict(row)
        if values["saved_at"] is None:
            values["saved_at"] = now
        bind.execute(revision_table.insert().values(**values))


def downgrade():
    op.drop_index(op.f('ix_shown_content_application_id'), table_name='shown_content')
    op.drop_table('shown_content')
    op.drop_index('ix_content_revision_target', table_name='content_revision')
    op.drop_table('content_revision')
