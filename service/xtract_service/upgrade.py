"""What this version does to the data an older one left in Redis.

Layout 2 put hash tags in the keys (:mod:`xtract_service.keys`): a Redis that an older
service used holds its crawls, owners, offloads and tokens under the first layout's
names, and :func:`upgrade` renames them once (``RENAMENX``: a key already under its new
name is left as it is), then records the layout in ``xtract:schema``. The supervisor
runs it when the service starts; a Redis Cluster was never used by the first layout.
"""

from __future__ import annotations

import logging

import redis

from xtract_service import keys
from xtract_service.redis_client import is_cluster, text

LAYOUT = "2"
log = logging.getLogger(__name__)


def upgrade(r: redis.Redis) -> int:
    """Rename the first layout's keys; returns how many were renamed."""
    if is_cluster(r) or text(r.get(keys.SCHEMA)) == LAYOUT:
        return 0
    renamed = 0
    for pattern in keys.UNTAGGED_PATTERNS:
        for name in list(r.scan_iter(match=pattern, count=1000)):
            new = keys.tagged(text(name))
            if new is not None and r.renamenx(text(name), new):
                renamed += 1
    r.delete(keys.UNTAGGED_FENCE)
    r.set(keys.SCHEMA, LAYOUT)
    if renamed:
        log.info("renamed %d keys to the layout with hash tags", renamed)
    return renamed
