"""Users: accounts, names, passwords, sessions, roles, permissions, privilege rules and API
tokens."""
