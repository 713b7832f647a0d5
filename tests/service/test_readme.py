"""The README's Python blocks, run top to bottom in a real Jupyter kernel (nbclient,
ipykernel) against a running service, as a user pastes them into a notebook: every
block but those marked as needing Globus, verbatim. The kernel's home holds the data the
README crawls (``~/data``); the service lets the owner reach it. The notebook's
progress is a live bar (an HTML ``<progress>`` updated in place), not a text line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.corpus import write_good
from tests.support import Service

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_RUN = "<!-- not run by the README test"


def readme_blocks() -> list[str]:
    """The README's ```python blocks, in order, without those marked not run."""
    text = README.read_text()
    blocks = []
    for m in re.finditer(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", text, re.S):
        if not m.group("before").startswith(NOT_RUN):
            blocks.append(m.group("code"))
    return blocks


def test_the_readmes_python_runs_top_to_bottom_in_a_kernel(tmp_path: Path) -> None:
    home = tmp_path / "user"
    write_good(home / "data")
    (home / "exports").mkdir(parents=True)
    roots = {"XTRACT_ALLOWED_ROOTS": json.dumps([str(home)])}
    with Service(tmp_path / "xtract-home", env=roots) as svc:
        blocks = readme_blocks()
        assert len(blocks) >= 5
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in blocks])
        env = {**svc.full_env(), "HOME": str(home)}
        env.pop("XTRACT_URL", None)  # the client finds the service as the README says
        # a loaded machine delivers a cell's printed output late: wait for it (nbclient
        # drops what comes after iopub_timeout, 4 s by default, without a word)
        client = NotebookClient(nb, timeout=300, kernel_name="python3", iopub_timeout=60,
                                resources={"metadata": {"path": str(home)}})  # fmt: skip
        client.execute(env=env, cwd=str(home))  # raises CellExecutionError on any error
    crawl_cell = nb.cells[0]
    bars = [
        o["data"]["text/html"]
        for o in crawl_cell.outputs
        if o.get("output_type") in ("display_data", "update_display_data")
        and "text/html" in o.get("data", {})
    ]
    assert bars and all("<progress" in b for b in bars), crawl_cell.outputs
    assert any("complete: " in b and 'value="1.0000"' in b for b in bars), bars
    printed = "".join(
        o.get("text", "") for cell in nb.cells for o in cell.outputs if o["output_type"] == "stream"
    )
    assert str(home / "data") in printed  # the monitor block's callback named files
