"""The isolated runner turns hangs, memory blow-ups and crashes into error records, and
carries on with a fresh process."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.extractors.sample_extractors  # noqa: F401 - registers the test extractors
from xtract_extractors import IsolatedRunner, ParamError, UnknownExtractor


@pytest.fixture
def target(tmp_path: Path) -> str:
    p = tmp_path / "x.txt"
    p.write_text("x")
    return str(p)


def test_a_hang_becomes_a_timeout_record_and_the_runner_carries_on(target: str) -> None:
    with IsolatedRunner(time_limit=1) as r:
        rec = r.run("test_sleeper", [target])
        assert rec == {
            "extractor": "test_sleeper",
            "error": "timeout",
            "message": "no answer within 1s",
        }
        assert r.run("test_sleeper", [target], {"seconds": 0.01}) == {"slept": 0.01}
        assert r.restarts == 1


def test_a_memory_blow_up_becomes_a_memory_record(target: str) -> None:
    with IsolatedRunner(time_limit=60, memory_limit=512 << 20) as r:
        rec = r.run("test_hog", [target])
        assert rec["extractor"] == "test_hog" and rec["error"] == "memory_limit"
        assert r.run("test_pid", [target])["pid"] > 0


def test_a_crash_becomes_a_crash_record(target: str) -> None:
    with IsolatedRunner(time_limit=30) as r:
        rec = r.run("test_crasher", [target])
        assert rec["extractor"] == "test_crasher" and rec["error"] == "crashed"
        assert "died" in rec["message"]
        assert r.run("test_pid", [target])["pid"] > 0


def test_children_are_recycled_after_max_calls(target: str) -> None:
    with IsolatedRunner(max_calls=2) as r:
        pids = [r.run("test_pid", [target])["pid"] for _ in range(5)]
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]


def test_a_result_that_cannot_be_sent_is_an_error_record(target: str) -> None:
    with IsolatedRunner() as r:
        rec = r.run("test_unpicklable", [target])
        assert rec["error"] == "bad_result"


def test_unknown_extractors_and_bad_params_are_refused_before_running(target: str) -> None:
    with IsolatedRunner() as r:
        with pytest.raises(UnknownExtractor, match="unknown extractor 'nope'"):
            r.run("nope", [target])
        with pytest.raises(ParamError, match="has no parameter 'colour'"):
            r.run("tabular", [target], {"colour": 1})
        with pytest.raises(ParamError, match="'max_rows' of extractor 'tabular' must be integer"):
            r.run("tabular", [target], {"max_rows": "many"})
        with pytest.raises(ParamError, match="needs parameter 'token'"):
            r.run("test_needs", [target])
        ok = r.run("test_needs", [target], {"token": "abc", "ratio": 2})
        assert ok == {"ratio": 2.0, "flag": False, "token_length": 3}
        with pytest.raises(ParamError, match="'flag' of extractor 'test_needs' must be boolean"):
            r.run("test_needs", [target], {"token": "abc", "flag": 1})


def test_many_calls_share_one_round_trip_and_survive_a_bad_one(target: str) -> None:
    calls = [
        ("test_pid", [target], None),
        ("test_crasher", [target], None),
        ("test_pid", [target], None),
        ("test_sleeper", [target], {"seconds": 5.0}),
        ("test_pid", [target], None),
    ]
    with IsolatedRunner(time_limit=1) as r:
        out = r.run_many(calls)
    assert [o[0].get("error") for o in out] == [None, "crashed", None, "timeout", None]
    pids = [o[0]["pid"] for o in out if "pid" in o[0]]
    assert pids[0] != pids[1] != pids[2]  # a fresh process after the crash and the hang
    assert all(seconds >= 0 for _, seconds in out)


def test_a_child_killed_from_outside_costs_no_call(target: str) -> None:
    import os
    import signal

    with IsolatedRunner() as r:
        first = r.run("test_pid", [target])["pid"]
        os.kill(first, signal.SIGKILL)
        second = r.run("test_pid", [target])
    assert second["pid"] != first  # retried in a new process, not recorded as crashed


def test_out_of_memory_in_a_crowded_process_is_tried_again_in_a_fresh_one(
    tmp_path: Path,
) -> None:
    """A process that served calls holds their libraries; a call that runs out of
    memory there (a shared library it cannot map) is tried once more in a fresh
    process. One that runs out of memory in a fresh process stays an error record."""
    f = tmp_path / "x.txt"
    f.write_text("x")
    with IsolatedRunner(time_limit=30) as r:
        answers = r.run_many([("test_crowded", [str(f)], None)] * 3)
        pids = [a["pid"] for a, _ in answers]
        assert len(set(pids)) == 3 and r.restarts >= 2, answers
    with IsolatedRunner(time_limit=60, memory_limit=512 << 20) as r:
        (hog, _), (again, _) = r.run_many([("test_hog", [str(f)], None)] * 2)
        assert hog["error"] == again["error"] == "memory_limit"


def test_the_services_default_recycling_is_the_runners() -> None:
    """The service's settings spell the runner's ``MAX_CALLS`` as a number (importing
    the extractors package into every process's settings would cost its start-up)."""
    from xtract_extractors.isolation import MAX_CALLS
    from xtract_service.settings import Settings

    assert Settings.model_fields["extract_max_calls"].default == MAX_CALLS
