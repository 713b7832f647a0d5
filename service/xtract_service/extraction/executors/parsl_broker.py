"""The Parsl broker: the one process that speaks pickle with Parsl's workers.

Parsl hands results back pickled, and a worker on a cluster node is outside the
service's trust; so the Parsl DataFlowKernel never runs in a service process. The
:class:`~xtract_service.extraction.executors.parsl.ParslExecutor` starts this module
as a child with an empty environment (no Redis address, no token, no key) and, where
the kernel lets it, in a mount namespace of its own in which the service's home (its
secret key, its Redis socket, its token file) is covered by an empty ``tmpfs``. The
broker runs only :func:`xtract_extractors.batch.extract_batch`, and answers with JSON
lines, each bounded in size, which the executor checks again like any remote answer.

Protocol (one JSON object per line). In, on stdin: first ``{"config": TEXT | null,
"workers": N, "run_dir": PATH}``, then ``{"id": N, "families": [...], "options":
{...}}`` per batch. Out, on the file descriptor ``--answers``: ``{"ready": true}`` or
``{"fatal": MESSAGE}``, then ``{"id": N, "documents": [...]}`` or ``{"id": N,
"error": MESSAGE}`` per batch.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

MAX_ANSWER_BYTES = 64 << 20  # one batch's documents, as JSON


def _load(first: dict[str, Any]) -> Any:
    import parsl

    from xtract_service.extraction.executors.parsl import local_config

    if first.get("config"):
        scope: dict[str, Any] = {"__name__": "xtract_parsl_config"}
        exec(compile(first["config"], "XTRACT_PARSL_CONFIG", "exec"), scope)  # the admin's file
        config = scope["config"]
    else:
        config = local_config(int(first["workers"]), Path(first["run_dir"]))
    return parsl.load(config)


def _answer(out: IO[str], lock: threading.Lock, message: dict[str, Any]) -> None:
    line = json.dumps(message, allow_nan=False)
    if len(line) > MAX_ANSWER_BYTES:
        line = json.dumps({"id": message.get("id"), "error": "the batch's answer is too large"})
    with lock:
        out.write(line + "\n")
        out.flush()


def serve(requests: IO[str], out: IO[str]) -> None:
    """Answer batches until stdin ends."""
    import parsl

    from xtract_extractors.batch import extract_batch
    from xtract_service.extraction.executors.parsl import _call

    lock = threading.Lock()
    try:
        dfk = _load(json.loads(requests.readline()))
    except Exception as exc:  # the run fails with this reason
        _answer(out, lock, {"fatal": f"{type(exc).__name__}: {exc}"})
        return
    app = parsl.python_app(_call, data_flow_kernel=dfk)
    _answer(out, lock, {"ready": True})

    def done(bid: Any, future: Any) -> None:
        try:
            _answer(out, lock, {"id": bid, "documents": future.result()})
        except Exception as exc:  # a failed batch, or an answer that is not JSON
            _answer(out, lock, {"id": bid, "error": f"{type(exc).__name__}: {exc}"[:2000]})

    try:
        for line in requests:
            batch = json.loads(line)
            bid = batch["id"]
            future = app(extract_batch, batch["families"], **batch["options"])
            future.add_done_callback(lambda f, bid=bid: done(bid, f))
    finally:
        dfk.cleanup()
        parsl.clear()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m " + __name__)
    parser.add_argument("--answers", type=int, required=True, help="fd to answer on")
    args = parser.parse_args(argv)
    out = os.fdopen(args.answers, "w", encoding="utf-8")
    sys.stdout = sys.stderr  # nothing Parsl prints can be taken for an answer
    serve(sys.stdin, out)


if __name__ == "__main__":
    main()
