"""Executors that start anywhere: Parsl from a service whose PATH lacks the virtual
environment (as `.venv/bin/xtract serve` is run without activating it), and a run whose
executor could not start is FAILED with the reason, then `retry` runs it. What the
terminal `xtract serve` runs in shows of it: one line, the traceback and Parsl's own
logging left in the role's log file."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint

CONFIG = """
import os
from pathlib import Path

from xtract_service.extraction.executors.parsl import local_config

if not os.path.exists({marker!r}):
    raise RuntimeError("the cluster is not reachable yet")
config = local_config(2, Path({run_dir!r}))
"""


def test_parsl_starts_without_the_venv_on_path_and_retry_resumes_a_run_that_could_not_start(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    marker = tmp_path / "cluster-up"
    config = tmp_path / "parsl_config.py"
    config.write_text(CONFIG.format(marker=str(marker), run_dir=str(tmp_path / "runs")))
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **roots_env(data_root),
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no .venv/bin, as in a fresh shell
        "XTRACT_PARSL_CONFIG": str(config),
    }
    terminal = tmp_path / "terminal.txt"
    svc = Service(tmp_path / "home", env=env, terminal=terminal)
    assert venv_bin not in svc.full_env()["PATH"].split(":")
    svc.start()
    try:
        files = make_tree(tree_dir, 12, fanout=2, depth=1)
        xtr = svc.client()
        (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
        (first,) = xtr.xtract_and_wait(cid, executor="parsl", progress=False, timeout=120)
        assert first["xtract_status"] == "FAILED"
        assert "cannot start" in first["message"] and "not reachable" in first["message"]
        assert first["xtract_counters"]["fx"]["pending"] == len(files)

        marker.touch()  # the cluster is back
        again = xtr.retry(cid)
        assert again["retried"] == len(files) and again["resumed"] == len(files)
        (final,) = xtr.wait_for_xtract(cid, progress=False, timeout=240)
        assert final["xtract_status"] == "COMPLETED", final
        fx = final["xtract_counters"]["fx"]
        assert (fx["success"], fx["failed"], fx["pending"]) == (len(files), 0, 0)
    finally:
        svc.stop()
    shown = terminal.read_text()
    logged = (tmp_path / "home" / "logs" / "orchestrator.log").read_text()
    assert "Traceback" in logged and "not reachable" in logged
    assert (tmp_path / "home" / "logs" / "parsl.log").exists()  # what the broker says
    ours = ("xtract: ", "xtract error: ", "xtract warning: ")
    assert all(line.startswith(ours) for line in shown.splitlines()), shown  # nothing else
    (said,) = [line for line in shown.splitlines() if "cannot start" in line]
    assert said.startswith("xtract error: ") and "orchestrator.log" in said
