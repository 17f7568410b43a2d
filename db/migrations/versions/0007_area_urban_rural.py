"""areas: the NBS urban-rural classification code (城乡分类代码) of a village

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urban_rural", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_column("urban_rural")
