"""Shared kernel: database sessions, warehouse connection, errors, auth, audit, clock."""
