"""numbering: interaction log entries never reuse a number; attachments, logged segments and campaign
entries are highest + 1

Revision ID: 8d7aa6984735
Revises: 2e84b76ceebe
Create Date: 2026-12-03 15:45:15.000000

Interaction Log Entry numbers come from a sequence (domain.md 1.15): on SQLite the table becomes
AUTOINCREMENT (recreated, with its rows and indexes), so that the number of a deleted last entry is
never given again; PostgreSQL's SERIAL already never gives one back.

Attachment, Logged Segment and Campaign Entry numbers are highest + 1 (domain.md 1.7, 1.14, 1.17),
given by Rapport under a lock: on PostgreSQL their SERIAL defaults and sequences go; SQLite's
INTEGER PRIMARY KEY needs no change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8d7aa6984735'
down_revision: str | None = '2e84b76ceebe'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG = "interaction_log_entry"
HIGHEST_PLUS_ONE = (("attachment", "no"), ("logged_segment", "entry_no"), ("campaign_entry", "entry_no"))


def _recreate_log_on_sqlite(autoincrement: bool) -> None:
    """Recreate the interaction log with or without AUTOINCREMENT, keeping every row that points at it.

    Dropping the old table deletes the rows of the tables that refer to it (comments and deliveries,
    ON DELETE CASCADE), and foreign keys cannot be turned off inside the migration's transaction: those
    rows are kept aside and put back once the new table holds the entries again."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    children = [
        name
        for name in inspector.get_table_names()
        if any(fk["referred_table"] == LOG for fk in inspector.get_foreign_keys(name))
    ]
    for child in children:
        op.execute(f'CREATE TEMP TABLE "keep_{child}" AS SELECT * FROM "{child}"')
    with op.batch_alter_table(LOG, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
    for child in children:
        op.execute(f'DELETE FROM "{child}"')
        op.execute(f'INSERT INTO "{child}" SELECT * FROM "keep_{child}"')
        op.execute(f'DROP TABLE "keep_{child}"')


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _recreate_log_on_sqlite(autoincrement=True)
    elif dialect == "postgresql":
        for table, column in HIGHEST_PLUS_ONE:
            sequence = op.get_bind().scalar(sa.text(f"SELECT pg_get_serial_sequence('{table}', '{column}')"))
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT')
            if sequence:
                op.execute(f"DROP SEQUENCE {sequence}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _recreate_log_on_sqlite(autoincrement=False)
    elif dialect == "postgresql":
        for table, column in HIGHEST_PLUS_ONE:
            sequence = f"{table}_{column}_seq"
            op.execute(f'CREATE SEQUENCE "{sequence}" OWNED BY "{table}"."{column}"')
            op.execute(f'SELECT setval(\'"{sequence}"\', COALESCE(MAX("{column}"), 0) + 1, false) FROM "{table}"')
            op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DEFAULT nextval(\'"{sequence}"\')')
