"""Alembic migrations of the hub's database; ``hub.database.upgrade`` runs them."""
