"""State on disk and in memory: SQLite tables, the group-commit writer, gateways and logs."""
