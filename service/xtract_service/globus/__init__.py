"""The Globus room: every Globus client the service builds, the names its tokens go by,
and each owner's shared rate bucket.

- ``tokens.py``: the token names callers use (and their aliases), the scopes behind
  them, the names runs keep them under;
- ``ratelimit.py``: ``RateLimiter``, one owner's bucket in Redis, and ``PacedAdapter``,
  which makes every request of a client take from it;
- ``clients.py``: ``transfer``, ``search``, ``compute``, ``groups``, ``auth_app``: the
  clients, built with one retry policy;
- ``compute.py``: ``ComputeTasks``, functions run on a Compute endpoint as futures (the
  crawl's walker, extraction batches);
- ``staging.py``: copying a collection's files here (HTTPS or Transfer) so an executor
  that runs here can read them.

Crawl, extraction, offload and auth use this room; it imports none of them.
"""
