"""The Xtract service: REST API, Redis state, crawl workers, and the ``xtract`` CLI."""

__version__ = "0.1.0"
