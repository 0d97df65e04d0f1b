"""corrections used: which corrections each document's braille applied, and how often

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('corrections_used', sa.JSON(), nullable=True))
    with op.batch_alter_table('results') as batch:
        batch.add_column(sa.Column('corrections_used', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('results') as batch:
        batch.drop_column('corrections_used')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('corrections_used')
