"""README's pictures: ``python -m docs.screenshots`` takes them from a live Prefect server (not installed with the package)."""
