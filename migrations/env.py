"""Alembic environment: the URL comes from SIGNOFF_DATABASE_URL via core.settings."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models.all_tables  # noqa: F401 - registers every table of every domain
from core.db import make_engine
from core.settings import get_settings

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
