"""identity: a keyed blind index of personal identity values (phones, e-mails, ID numbers)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-06 04:00:00.000000

The digests need the secret key, which a migration does not have: rows start without one and the first
search (or ``tagora customers reindex``) indexes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_identities_type_digest", ["type", "digest"], unique=False)

    op.create_table(
        "identity_index_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("indexed_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_index_keys")),
    )


def downgrade() -> None:
    op.drop_table("identity_index_keys")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_index("ix_identities_type_digest")
        batch_op.drop_column("digest")
