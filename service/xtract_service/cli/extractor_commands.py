"""Extractor commands: ``extract-file`` (what every applicable extractor finds in one
file) and ``extractors`` (what this installation has). They need no service."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from xtract_service.cli.app import app, fail, show
from xtract_service.cli.render import extraction_text


@app.command("extract-file")
def extract_file_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, resolve_path=True),
    extractor: list[str] = typer.Option(
        None, "--extractor", "-e", help="Run only these extractors (repeatable)."
    ),
    time_limit: float = typer.Option(60.0, help="Seconds each extractor may take."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show what every applicable extractor finds in one file, before a big run."""
    from xtract_extractors import IsolatedRunner, UnknownExtractor, extract_file, get

    only = list(extractor) if extractor else None
    try:
        for name in only or []:
            get(name)
    except UnknownExtractor as exc:
        fail(str(exc), 2)
    with IsolatedRunner(time_limit=time_limit) as runner:
        doc = extract_file(str(path), runner, only=only, add=only or ())
    if as_json:
        typer.echo(json.dumps(doc, indent=2, default=str))
    else:
        typer.echo(extraction_text(doc))
    if doc["errors"] and not doc["metadata"].keys() - {"filetype"}:
        raise typer.Exit(1)


@app.command("extractors")
def list_extractors(
    as_json: bool = typer.Option(False, "--json"),
    families: bool = typer.Option(
        False, "--families", help="List the container families (one extra each) instead."
    ),
) -> None:
    """List the extractors this installation has, with their parameters."""
    from xtract_extractors import PLUGIN_ERRORS, all_extractors
    from xtract_extractors.kinds import families_table, missing_libraries

    if families:
        served, table = families_table()
        show(served, as_json, table)
        return
    found = []
    for extractor in all_extractors():
        described = extractor.describe()
        described["missing"] = list(missing_libraries(extractor.family))
        found.append(described)
    if as_json:
        typer.echo(json.dumps({"extractors": found, "plugin_errors": PLUGIN_ERRORS}, indent=2))
        return
    for e in found:
        params = ", ".join(f"{p['name']}={p['default']!r}" for p in e["params"])
        typer.echo(f"{e['name']:<10} {e['version']:<5} {e['description']}")
        if params:
            typer.echo(f"{'':<16} params: {params}")
        if e["missing"]:
            typer.echo(
                f"{'':<16} not installed: {', '.join(e['missing'])} "
                f"(pip install 'xtract[{e['family']}]')"
            )
    for name, why in PLUGIN_ERRORS.items():
        typer.echo(f"xtract: plug-in {name!r} was skipped: {why}", err=True)
