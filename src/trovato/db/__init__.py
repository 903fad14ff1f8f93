"""The database layer: the connection pool, connection URLs, the embedded PostgreSQL launcher
and the schema migrations. Imports nothing above it."""
