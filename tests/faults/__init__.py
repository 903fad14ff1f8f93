"""Fault tests: real parts of the site (PostgreSQL, Redis, a worker) broken under load."""
