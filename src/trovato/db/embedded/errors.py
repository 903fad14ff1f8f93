"""The one error the embedded PostgreSQL launcher raises."""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be set up, started or attached to."""
