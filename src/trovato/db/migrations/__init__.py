"""The Alembic environment and the schema revisions (raw SQL, in ``versions/``)."""
