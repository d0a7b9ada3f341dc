"""notification preferences per category, daily digest

Revision ID: 3f1c9a7e5d20
Revises: 3f1c9a7e5b20
Create Date: 2026-12-02 17:00:00.000000

The single switch `user_account.notify_by_email` becomes one preference per category: a user
who had chosen in-app only gets "app" for every category; the others keep the defaults.
"""
from alembic import op
import sqlalchemy as sa

import grants.db


# revision identifiers, used by Alembic.
revision = '3f1c9a7e5d20'
down_revision = '3f1c9a7e5b20'
branch_labels = None
depends_on = None

# grants/notifications/preferences.py CATEGORIES, as they were when this migration was written.
CATEGORIES = ('action', 'confirmation', 'vote', 'reminder', 'decision', 'state')


def upgrade():
    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('delivery', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'category', name=op.f('pk_notification_preference'))
    )
    op.create_table('notification_digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', grants.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox_email.id'], name=op.f('fk_notification_digest_outbox_id_outbox_email'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_digest_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_digest')),
    sa.UniqueConstraint('user_id', 'day', name=op.f('uq_notification_digest_user_id_day'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery', sa.String(length=10), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notification_digest_id_notification_digest'), 'notification_digest', ['digest_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_notification_digest_pending', ['delivery', 'digest_id'], unique=False)

    # Earlier notifications were sent by email or not at all: none waits for a digest.
    op.execute("UPDATE notification SET delivery = CASE WHEN emailed THEN 'email' ELSE 'app' END")
    for category in CATEGORIES:
        op.execute(sa.text(
            "INSERT INTO notification_preference (user_id, category, delivery) "
            "SELECT id, :category, 'app' FROM user_account WHERE notify_by_email = :off"
        ).bindparams(category=category, off=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('notify_by_email')


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_by_email', sa.Boolean(), server_default=sa.true(), nullable=False))
    # In-app only where the user chose it for every kind that could be emailed before.
    op.execute(sa.text(
        "UPDATE user_account SET notify_by_email = :off WHERE id IN (SELECT user_id FROM "
        "notification_preference WHERE delivery = 'app' GROUP BY user_id "
        "HAVING COUNT(*) >= :n)").bindparams(off=False, n=len(CATEGORIES) - 1))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_digest_pending')
        batch_op.drop_constraint(batch_op.f('fk_notification_digest_id_notification_digest'), type_='foreignkey')
        batch_op.drop_column('digest_id')
        batch_op.drop_column('delivery')
    op.drop_table('notification_digest')
    op.drop_table('notification_preference')
