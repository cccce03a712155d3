"""Projections: followers of the event log that keep the read models (SQLAlchemy
tables managed by Alembic) and the feature views the engines read."""
