"""The ``xtract`` command line. Commands live by audience: :mod:`.service_commands`
(run the service and its workers), :mod:`.client_commands` (drive crawls through the
SDK), :mod:`.extractor_commands` (try extractors on files); :mod:`.render` shows
results as text.

Exit codes: 0 success, 1 the run failed (or the service refused), 2 usage error.
"""

from __future__ import annotations

from xtract_service.cli import client_commands, extractor_commands, service_commands
from xtract_service.cli.app import app, fail

__all__ = ["app", "client_commands", "extractor_commands", "main", "service_commands"]


def main() -> None:
    """Console entry point; click's usage errors exit 2, said as a JSON error on stdout
    when ``--json`` is among the arguments (as every other error is)."""
    import sys

    import typer

    as_json = "--json" in sys.argv[1:]
    try:
        code = app(standalone_mode=False)  # a typer.Exit comes back as its code
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Abort:
        typer.echo("", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors: unknown option, bad value
        code = int(getattr(exc, "exit_code", 2))
        if not as_json:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(code)
        try:
            fail(exc.format_message(), code, True, "usage")
        except typer.Exit as done:
            sys.exit(done.exit_code)
