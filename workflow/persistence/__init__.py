"""Persistence: the tables, the migrations, and the unit of work."""
