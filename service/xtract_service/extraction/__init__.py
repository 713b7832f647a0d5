"""Extraction: the orchestrator that feeds a crawl's families to an executor, the
executors themselves, and the Redis store of extraction state and results."""
