"""The schema revisions, numbered in order; each is raw SQL with its downgrade."""
