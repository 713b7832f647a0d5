"""Loopback emulators of the Globus services Xtract calls, implementing only those
calls, with the documented request and response shapes."""
