"""Alembic environment: run with the engine the product hands over."""

from alembic import context

from workflow.persistence.orm import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
