"""Alembic migrations of the hub's database; ``hub.db.engine.upgrade`` runs them."""
