"""corrections: transcribers' rulings on how a word or phrase is written in braille

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 07:55:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('set_name', sa.String(length=100), nullable=False),
    sa.Column('table', sa.String(length=64), nullable=False),
    sa.Column('print_text', sa.String(length=200), nullable=False),
    sa.Column('braille', sa.String(length=400), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('set_name', 'table', 'print_text', name='uq_corrections_set_table_print')
    )


def downgrade() -> None:
    op.drop_table('corrections')
