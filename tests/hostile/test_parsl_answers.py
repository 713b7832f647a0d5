"""A hostile Parsl worker answers every task with a pickle whose ``__reduce__`` runs
code where it is unpickled (issue 21, finding 1 for Parsl). Parsl's DataFlowKernel
unpickles it; that must not be a service process: the code runs in the Parsl broker,
which has no service environment, cannot see the service's home (key, Redis socket,
token), and hands the orchestrator only JSON, which fails the check every remote answer
gets: each family is an error record, and the service goes on."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support import Service, make_tree, roots_env
from xtract_sdk import XtractEndpoint

# imported by every Python process of the hostile worker pool (its PYTHONPATH)
SITECUSTOMIZE = """
import parsl.executors.execute_task as real

class Payload:
    def __reduce__(self):
        return (exec, ({code!r},))

def execute_task(bufs, *args, **kwargs):
    return Payload()

real.execute_task = execute_task
"""

# what the payload runs where it is unpickled: it writes down what it could reach
PAYLOAD = """
import json, os
def can_read(p):
    try:
        open(p, 'rb').close()
        return True
    except OSError:
        return False
with open({marker!r}, 'w') as f:
    json.dump({{
        'pid': os.getpid(),
        'env': sorted(k for k in os.environ if k.startswith('XTRACT')),
        'key': can_read({key!r}),
        'token': can_read({token!r}),
        'redis': os.path.exists({sock!r}),
    }}, f)
"""

CONFIG = """
from pathlib import Path
from xtract_service.extraction.executors.parsl import local_config

config = local_config(1, Path({run_dir!r}))
config.executors[0].launch_cmd = "env PYTHONPATH={hostile} " + config.executors[0].launch_cmd
"""


def test_a_hostile_parsl_worker_runs_nothing_in_a_service_process(
    data_root: Path, tmp_path: Path, tree_dir: Path
) -> None:
    home, hostile, marker = tmp_path / "home", tmp_path / "hostile", tmp_path / "ran.json"
    hostile.mkdir()
    payload = PAYLOAD.format(
        marker=str(marker),
        key=str(home / "secret.key"),
        token=str(home / "token"),
        sock=str(home / "redis" / "redis.sock"),
    )
    (hostile / "sitecustomize.py").write_text(SITECUSTOMIZE.format(code=payload))
    config = tmp_path / "parsl_config.py"
    config.write_text(CONFIG.format(run_dir=str(tmp_path / "runs"), hostile=str(hostile)))
    files = make_tree(tree_dir, 6, fanout=2, depth=1)
    env = {**roots_env(data_root), "XTRACT_PARSL_CONFIG": str(config)}
    with Service(home, env=env) as svc:
        xtr = svc.client()
        (cid,) = xtr.crawl_and_wait(XtractEndpoint("local", dirs=[str(tree_dir)]), progress=False)
        (done,) = xtr.xtract_and_wait(cid, executor="parsl", progress=False, timeout=180)
        fx = done["xtract_counters"]["fx"]
        assert (fx["success"], fx["failed"]) == (0, len(files)), done
        docs = xtr.metadata(cid)
        assert all("one document per family" in str(d["errors"]) for d in docs)
        services = subprocess.run(
            ["pgrep", "-f", "xtract_service.(processes|cli)"], capture_output=True, text=True
        ).stdout.split()
        assert svc.healthy()
    ran = json.loads(marker.read_text())  # the payload did run: where, and with what
    assert str(ran["pid"]) not in services
    assert ran["env"] == []
    assert not ran["key"] and not ran["token"] and not ran["redis"]
    assert os.path.exists(home / "secret.key")  # it is there, only not for the broker
