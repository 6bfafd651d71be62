"""Tools for admins: ``ls-active demo`` (Label Studio, the backend and a scored project in one
command) and ``ls-active check`` (a self-test of a running setup).

May import everything but the CLI.
"""
