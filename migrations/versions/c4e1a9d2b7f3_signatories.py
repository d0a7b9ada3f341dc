"""signatories: each organisation names its authorised signatory; the lead signs too

Revision ID: c4e1a9d2b7f3
Revises: 3f1c9a7e5d20
Create Date: 2026-12-02 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import grants.db


# revision identifiers, used by Alembic.
revision = 'c4e1a9d2b7f3'
down_revision = '3f1c9a7e5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('application_signatory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('named_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_signatory_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_application_signatory_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_application_signatory_user_id_user_account')),
    sa.ForeignKeyConstraint(['named_by_id'], ['user_account.id'], name=op.f('fk_application_signatory_named_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_signatory')),
    sa.UniqueConstraint('application_id', 'organisation_id', name=op.f('uq_application_signatory_application_id_organisation_id'))
    )
    with op.batch_alter_table('application_signatory', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_signatory_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_signatory_user_id'), ['user_id'], unique=False)

    # The lead organisation's confirmations: no partner, the application instead.
    with op.batch_alter_table('partner_confirmation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_application_id', sa.Integer(), nullable=True))
        batch_op.alter_column('partner_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_partner_confirmation_lead_application_id'), ['lead_application_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_partner_confirmation_lead_application_id_application'), 'application', ['lead_application_id'], ['id'], ondelete='CASCADE')


def downgrade():
    op.execute("DELETE FROM partner_confirmation WHERE partner_id IS NULL")
    with op.batch_alter_table('partner_confirmation', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_partner_confirmation_lead_application_id_application'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_partner_confirmation_lead_application_id'))
        batch_op.alter_column('partner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('lead_application_id')

    with op.batch_alter_table('application_signatory', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_signatory_user_id'))
        batch_op.drop_index(batch_op.f('ix_application_signatory_application_id'))
    op.drop_table('application_signatory')
