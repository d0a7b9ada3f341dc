"""tamper-evident records: audit hash chain, documents of a submission, append-only triggers

Revision ID: 3f1c2a9d7e54
Revises: c4e1a9d2b7f3
Create Date: 2026-12-02 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import grants.db
from grants.audit import APPEND_ONLY_DDL, GENESIS, chain_sha256, content_sha256
from grants.submissions.models import FROZEN_DDL


# revision identifiers, used by Alembic.
revision = '3f1c2a9d7e54'
down_revision = 'c4e1a9d2b7f3'
branch_labels = None
depends_on = None

TRIGGERS = {
    "sqlite": [("audit_event_no_update", None), ("audit_event_no_delete", None),
               ("submission_frozen_update", None), ("submission_frozen_delete", None),
               ("submission_document_no_update", None), ("submission_document_no_delete", None),
               ("document_frozen_update", None), ("document_frozen_delete", None)],
    "postgresql": [("audit_event_append_only", "audit_event"),
                   ("submission_frozen", "submission"),
                   ("submission_document_frozen", "submission_document"),
                   ("document_frozen", "document")],
}


def upgrade():
    op.create_table('submission_document',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_submission_document_application_id_application')),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_document_submission_id_submission')),
    sa.PrimaryKeyConstraint('submission_id', 'kind', 'fingerprint', name=op.f('pk_submission_document'))
    )
    with op.batch_alter_table('submission_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_document_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chain_sha256', sa.String(length=64), nullable=True))

    # The rows so far, hashed onto the chain in id order (as the app hashes new rows).
    audit_event = sa.table(
        'audit_event', sa.column('id', sa.Integer()), sa.column('actor_id', sa.Integer()),
        sa.column('action', sa.String()), sa.column('object_type', sa.String()),
        sa.column('object_id', sa.Integer()), sa.column('before', sa.JSON()),
        sa.column('after', sa.JSON()), sa.column('created_at', grants.db.UTCDateTime()),
        sa.column('content_sha256', sa.String()), sa.column('chain_sha256', sa.String()))
    bind = op.get_bind()
    head = GENESIS
    for row in bind.execute(sa.select(audit_event).order_by(audit_event.c.id)).all():
        content = content_sha256(row)
        head = chain_sha256(head, content)
        bind.execute(audit_event.update().where(audit_event.c.id == row.id).values(
            content_sha256=content, chain_sha256=head))

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('content_sha256', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.alter_column('chain_sha256', existing_type=sa.String(length=64),
                              nullable=False)

    # Append-only and frozen in the database itself (the statements the app's tables are
    # created with).
    dialect = bind.dialect.name
    for statement in APPEND_ONLY_DDL.get(dialect, []) + FROZEN_DDL.get(dialect, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for name, table in TRIGGERS.get(dialect, []):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if table else ""))
    if dialect == "postgresql":
        for function in ("grants_append_only", "grants_submission_frozen",
                         "grants_document_frozen"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('chain_sha256')
        batch_op.drop_column('content_sha256')

    with op.batch_alter_table('submission_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_document_application_id'))

    op.drop_table('submission_document')
