"""Crawling: repos that list directories, groupers that form families, workers that
walk the frontier breadth-first, and the Redis store that holds it all."""
