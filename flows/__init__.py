"""Prefect flows: they orchestrate the campaign timeline and decide no rule."""
