"""What every ``xtract`` command shares: the Typer app, one-line failures, and output
as text or ``--json``.

Exit codes: 0 success, 1 the run failed (or the service refused), 2 usage error (a
bad option, or a request the service calls malformed: an unknown grouper, executor,
extractor or format). With ``--json`` an error is printed as JSON on standard output,
``{"error": {"code", "message", "status"}}``, as well as the exit code.

Every client command talks to ``--url``, else ``$XTRACT_URL``, else
``http://127.0.0.1:$XTRACT_PORT`` (8765).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any, NoReturn

import typer

from xtract_sdk import BadRequestError, XtractError

app = typer.Typer(
    help="Xtract: crawl research data where it lives and read its metadata.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    url: str = typer.Option(
        None,
        "--url",
        envvar="XTRACT_URL",
        help="The Xtract service (default http://127.0.0.1:$XTRACT_PORT, port 8765).",
    ),
) -> None:
    """Xtract: crawl research data where it lives and read its metadata."""
    if url:
        os.environ["XTRACT_URL"] = url


token_app = typer.Typer(help="Show, rotate or issue service tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


def fail(
    message: str,
    code: int = 1,
    as_json: bool = False,
    kind: str | None = None,
    status: int | None = None,
) -> NoReturn:
    """Print ``xtract: message`` on stderr (with ``as_json``, a JSON error on stdout)
    and exit with ``code``."""
    if as_json:
        error = {"code": kind or ("usage" if code == 2 else "failed"), "message": message}
        typer.echo(json.dumps({"error": {**error, "status": status}}))
    else:
        typer.echo(f"xtract: {message}", err=True)
    raise typer.Exit(code)


def show(data: Any, as_json: bool, text: str) -> None:
    """Print ``data`` as JSON, or ``text``."""
    typer.echo(json.dumps(data, indent=2) if as_json else text)


@contextlib.contextmanager
def sdk_errors(as_json: bool = False) -> Iterator[None]:
    """Turn an SDK error into one readable line (or a JSON error) and exit: 2 for a
    request the service calls malformed (a usage error), else 1."""
    try:
        yield
    except XtractError as exc:
        code = 2 if isinstance(exc, BadRequestError) else 1
        fail(exc.message, code, as_json, exc.code, exc.status)


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
