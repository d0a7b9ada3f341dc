"""form versions: each application records the form version it started on

Revision ID: 3f1c9a7e5b20
Revises: 6763a77d2669
Create Date: 2026-12-02 17:00:00.000000

"""
import hashlib
from datetime import datetime, timezone
from pathlib import Path

from alembic import op
import sqlalchemy as sa
import yaml
from flask import current_app

import grants.db


# revision identifiers, used by Alembic.
revision = '3f1c9a7e5b20'
down_revision = '6763a77d2669'
branch_labels = None
depends_on = None


definition_version = sa.table(
    'definition_version', sa.column('id', sa.Integer), sa.column('kind', sa.String),
    sa.column('name', sa.String), sa.column('version', sa.Integer),
    sa.column('source', sa.Text), sa.column('sha256', sa.String),
    sa.column('created_at', grants.db.UTCDateTime(timezone=True)))
application = sa.table('application', sa.column('id', sa.Integer),
                       sa.column('form_name', sa.String), sa.column('form_version', sa.Integer))


def _declared_version(text):
    try:
        data = yaml.safe_load(text)
        version = data.get('version') if isinstance(data, dict) else None
    except yaml.YAMLError:
        version = None
    return version if isinstance(version, int) and version > 0 else 1


def upgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_version', sa.Integer(), nullable=True))

    # Backfill: every application records the current version of its form (the text of the
    # file now, stored as a version when it is not stored yet). Applications whose form file
    # is gone keep no version and go on using the file, should it come back.
    bind = op.get_bind()
    directory = Path(current_app.config['WORKFLOWS_PATH']) / 'forms'
    names = bind.execute(sa.select(application.c.form_name).distinct()).scalars().all()
    for name in names:
        path = directory / f'{name}.yaml'
        if not path.is_file():
            continue
        text = path.read_text(encoding='utf-8')
        digest = hashlib.sha256(text.encode('utf-8')).hexdigest()
        rows = definition_version.c
        number = bind.execute(sa.select(rows.version).where(
            rows.kind == 'form', rows.name == name, rows.sha256 == digest)
            .order_by(rows.id).limit(1)).scalar()
        if number is None:
            highest = bind.execute(sa.select(sa.func.max(rows.version)).where(
                rows.kind == 'form', rows.name == name)).scalar() or 0
            number = max(_declared_version(text), highest + 1)
            bind.execute(definition_version.insert().values(
                kind='form', name=name, version=number, source=text, sha256=digest,
                created_at=datetime.now(timezone.utc)))
        bind.execute(application.update().where(application.c.form_name == name)
                     .values(form_version=number))


def downgrade():
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('form_version')
