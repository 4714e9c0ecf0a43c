"""identity resolution: merges, separations, conflicts, origin uids

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:13:21.375134
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tagora.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("uid_a", sa.Integer(), nullable=False),
        sa.Column("uid_b", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("seen_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uid_a"],
            ["customers.uid"],
            name=op.f("fk_identity_conflicts_uid_a_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uid_b"],
            ["customers.uid"],
            name=op.f("fk_identity_conflicts_uid_b_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_conflicts")),
        sa.UniqueConstraint("type", "value", "uid_a", "uid_b", name="uq_identity_conflicts_pair"),
    )
    with op.batch_alter_table("identity_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_conflicts_uid_a"), ["uid_a"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_conflicts_uid_b"), ["uid_b"], unique=False)

    op.create_table(
        "identity_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survivor_uid", sa.Integer(), nullable=False),
        sa.Column("merged_uid", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.String(length=256), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", tagora.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undo_reason", sa.String(length=32), nullable=True),
        sa.Column("facts_moved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_uid"],
            ["customers.uid"],
            name=op.f("fk_identity_merges_merged_uid_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["survivor_uid"],
            ["customers.uid"],
            name=op.f("fk_identity_merges_survivor_uid_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_merges")),
    )
    with op.batch_alter_table("identity_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_merges_merged_uid"), ["merged_uid"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_merges_survivor_uid"), ["survivor_uid"], unique=False)

    op.create_table(
        "identity_separations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid_a", sa.Integer(), nullable=False),
        sa.Column("uid_b", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", tagora.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uid_a"],
            ["customers.uid"],
            name=op.f("fk_identity_separations_uid_a_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uid_b"],
            ["customers.uid"],
            name=op.f("fk_identity_separations_uid_b_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_separations")),
        sa.UniqueConstraint("uid_a", "uid_b", name="uq_identity_separations_pair"),
    )
    with op.batch_alter_table("identity_separations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_separations_uid_a"), ["uid_a"], unique=False)
        batch_op.create_index(batch_op.f("ix_identity_separations_uid_b"), ["uid_b"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_customers_merged_into"), ["merged_into"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_merged_into_customers"), "customers", ["merged_into"], ["uid"]
        )

    # Existing identities and interactions came from the record they point at; record keys are user ids.
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_uid", sa.Integer(), nullable=True))
    op.execute("UPDATE identities SET origin_uid = uid")
    op.execute("UPDATE identities SET type = 'user_id' WHERE type = 'external_id'")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.alter_column("origin_uid", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_identities_type_value"), type_="unique")
        batch_op.create_index("ix_identities_type_value", ["type", "value"], unique=False)
        batch_op.create_unique_constraint("uq_identities_origin_type_value", ["origin_uid", "type", "value"])
        batch_op.create_foreign_key(
            batch_op.f("fk_identities_origin_uid_customers"),
            "customers",
            ["origin_uid"],
            ["uid"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_uid", sa.Integer(), nullable=True))
    op.execute("UPDATE interactions SET origin_uid = uid")
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.alter_column("origin_uid", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f("ix_interactions_origin_uid"), ["origin_uid"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_interactions_origin_uid_customers"),
            "customers",
            ["origin_uid"],
            ["uid"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_interactions_origin_uid_customers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_interactions_origin_uid"))
        batch_op.drop_column("origin_uid")

    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_identities_origin_uid_customers"), type_="foreignkey")
        batch_op.drop_constraint("uq_identities_origin_type_value", type_="unique")
        batch_op.drop_index("ix_identities_type_value")
        batch_op.drop_column("origin_uid")
    op.execute("UPDATE identities SET type = 'external_id' WHERE type = 'user_id'")
    # Records merged into one person may share a value; the old unique key keeps one row of each.
    op.execute("DELETE FROM identities WHERE id NOT IN (SELECT MIN(id) FROM identities GROUP BY type, value)")
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_identities_type_value", ["type", "value"])

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customers_merged_into_customers"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_customers_merged_into"))
        batch_op.drop_column("merged_into")

    with op.batch_alter_table("identity_separations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_separations_uid_b"))
        batch_op.drop_index(batch_op.f("ix_identity_separations_uid_a"))

    op.drop_table("identity_separations")
    with op.batch_alter_table("identity_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_merges_survivor_uid"))
        batch_op.drop_index(batch_op.f("ix_identity_merges_merged_uid"))

    op.drop_table("identity_merges")
    with op.batch_alter_table("identity_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_conflicts_uid_b"))
        batch_op.drop_index(batch_op.f("ix_identity_conflicts_uid_a"))

    op.drop_table("identity_conflicts")
