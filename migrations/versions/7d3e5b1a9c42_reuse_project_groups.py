"""reuse: project groups of linked applications

Revision ID: 7d3e5b1a9c42
Revises: d7a3e5c19b42
Create Date: 2026-12-06 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import grants.db


# revision identifiers, used by Alembic.
revision = '7d3e5b1a9c42'
down_revision = 'd7a3e5c19b42'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_group'))
    )
    op.create_table('application_link',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('copy_report', sa.JSON(), nullable=True),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_link_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['copied_from_id'], ['application.id'], name=op.f('fk_application_link_copied_from_id_application'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['group_id'], ['project_group.id'], name=op.f('fk_application_link_group_id_project_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['user_account.id'], name=op.f('fk_application_link_linked_by_id_user_account')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_application_link'))
    )
    with op.batch_alter_table('application_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_link_group_id'), ['group_id'], unique=False)


def downgrade():
    with op.batch_alter_table('application_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_link_group_id'))
    op.drop_table('application_link')
    op.drop_table('project_group')
