"""merge the hardening branches: accounts and sessions, the PII blind index, jobs, store marks

Revision ID: 0012
Revises: 0008, 0009, 0010, 0011
Create Date: 2026-12-06 05:15:00.000000

Each branch was written beside the others from 0007; none depends on another, so the merge changes nothing.
"""

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = ("0008", "0009", "0010", "0011")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
