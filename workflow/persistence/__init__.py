"""Persistence: the tables, their migrations, and a repository per table (rows in, domain values out)."""
