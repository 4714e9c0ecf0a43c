from __future__ import annotations

from alembic import context

from tagora.core.db import Base
from tagora.core.stores import load_models

load_models()
engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"

with engine.connect() as connection:
    if sqlite:
        # Batch migrations rebuild a SQLite table by drop + rename; with foreign keys on, dropping the
        # old ``customers`` would cascade-delete every row that references it. (Only outside a transaction.)
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
