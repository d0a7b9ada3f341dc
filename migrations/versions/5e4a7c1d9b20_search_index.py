"""search: the index of every application's text (FTS5 on SQLite, tsvector on PostgreSQL)

Revision ID: 5e4a7c1d9b20
Revises: 24a77766e9a9
Create Date: 2026-12-06 21:10:00.000000

"""
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

from grants.formengine.definition import load_forms
from grants.search.indexing import compose
from grants.search.models import POSTGRESQL_CREATE, SQLITE_CREATE, SQLITE_DROP

# revision identifiers, used by Alembic.
revision = '5e4a7c1d9b20'
down_revision = '24a77766e9a9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('search_document',
    sa.Column('application_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('meta', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_search_document_application_id_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_search_document'))
    )
    bind = op.get_bind()
    for statement in (POSTGRESQL_CREATE if bind.dialect.name == 'postgresql' else SQLITE_CREATE):
        op.execute(statement)
    fill(bind)


def fill(bind):
    """Index the applications there are, as `flask search reindex` would (the sections read
    with the current form files; a reindex reads each with the version it uses)."""
    forms = load_forms(Path(current_app.config['WORKFLOWS_PATH']) / 'forms')
    applications = bind.execute(sa.text(
        'SELECT a.id, a.title, a.form_name, a.parent_id, o.name AS organisation, '
        'c.title AS call_title, f.name AS funder_name, f.short_name AS funder_short_name '
        'FROM application a JOIN organisation o ON o.id = a.lead_organisation_id '
        'JOIN funding_call c ON c.id = a.call_id JOIN funder f ON f.id = c.funder_id '
        'ORDER BY a.id')).mappings().all()
    if not applications:
        return
    partners = defaultdict(list)
    for row in bind.execute(sa.text(
            "SELECT p.application_id, o.name FROM application_partner p "
            "JOIN organisation o ON o.id = p.organisation_id WHERE p.status != 'removed' "
            "ORDER BY p.id")):
        partners[row[0]].append(row[1])
    references = defaultdict(list)
    for row in bind.execute(sa.text(
            "SELECT application_id, funder_reference FROM funder_decision "
            "WHERE funder_reference != '' ORDER BY id")):
        references[row[0]].append(row[1])
    answers = defaultdict(dict)
    rows = bind.execute(sa.select(
        sa.column('application_id'), sa.column('section_key'), sa.column('partner_id'),
        sa.column('data', sa.JSON)).select_from(sa.table('section_answer')))
    for application_id, section_key, partner_id, data in rows:
        key = section_key if partner_id is None else f'{section_key}@{partner_id}'
        answers[application_id][key] = data or {}
    table = sa.table('search_document', sa.column('application_id'), sa.column('title'),
                     sa.column('meta'), sa.column('body'))
    documents = []
    for a in applications:
        texts = compose(
            title=a['title'], organisations=[a['organisation'], *partners[a['id']]],
            call_title=a['call_title'], funder_name=a['funder_name'],
            funder_short_name=a['funder_short_name'],
            references=[*references[a['id']], *references.get(a['parent_id'], [])],
            application_id=a['id'], form=forms.get(a['form_name']),
            answers=answers[a['id']])
        documents.append({'application_id': a['id'], **texts})
    op.bulk_insert(table, documents)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.drop_table('search_document')
