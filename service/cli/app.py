"""What every ``xtract`` command shares: the Typer app, one-line failures, and output
as text or ``--json``.

Exit codes: 0 success, 1 the run failed (or the service refused), 2 usage error.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any, NoReturn

import typer

from xtract_sdk import XtractError

app = typer.Typer(
    help="Xtract: crawl research data where it lives and read its metadata.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="Show, rotate or issue service tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``xtract: message`` on stderr and exit with ``code``."""
    typer.echo(f"xtract: {message}", err=True)
    raise typer.Exit(code)


def show(data: Any, as_json: bool, text: str) -> None:
    """Print ``data`` as JSON, or ``text``."""
    typer.echo(json.dumps(data, indent=2) if as_json else text)


@contextlib.contextmanager
def sdk_errors() -> Iterator[None]:
    """Turn an SDK error into one readable line and exit 1."""
    try:
        yield
    except XtractError as exc:
        fail(exc.message)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
