"""The Xtract SDK: crawl research data where it lives and read what is in it.

>>> from xtract_sdk import XtractClient, XtractEndpoint
>>> xtr = XtractClient()                                          # doctest: +SKIP
>>> xtr.crawl_and_wait([XtractEndpoint("local", dirs=["/data"])])  # doctest: +SKIP
"""

from xtract_sdk.client import XtractClient
from xtract_sdk.endpoint import XtractEndpoint
from xtract_sdk.errors import (
    AuthError,
    BadRequestError,
    NotFoundError,
    ServiceUnavailableError,
    TimeoutError,
    XtractError,
)
from xtract_sdk.monitor import Callback, Event, Monitor, MonitorOptions
from xtract_sdk.status import CrawlStatus, EventType, FamilyState, OffloadStatus, XtractStatus

__all__ = [
    "AuthError",
    "BadRequestError",
    "Callback",
    "CrawlStatus",
    "Event",
    "EventType",
    "FamilyState",
    "Monitor",
    "MonitorOptions",
    "NotFoundError",
    "OffloadStatus",
    "ServiceUnavailableError",
    "TimeoutError",
    "XtractClient",
    "XtractEndpoint",
    "XtractError",
    "XtractStatus",
]
