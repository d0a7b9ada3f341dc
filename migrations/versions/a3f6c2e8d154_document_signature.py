"""The seal's status on a document (the signed archival PDF/A).

Revision ID: a3f6c2e8d154
Revises: 5e4a7c1d9b20
"""

import sqlalchemy as sa
from alembic import op

revision = "a3f6c2e8d154"
down_revision = "5e4a7c1d9b20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("signature", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("document") as batch:
        batch.drop_column("signature")
