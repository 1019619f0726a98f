"""Many processes at once: one AWS call per registry, no lost entries, never a torn file.

These test de-duplication and independence, not the time bound: ``AWS_ECR_TIMEOUT`` is set far
beyond what 50 processes starting at once on a loaded 2-core machine can take, and "does not
wait" is shown by finishing while the other fetch is still held open, not by a stopwatch.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from support import CONSOLE_SCRIPT, spawn_get
from support.standin import StandIn

pytestmark = pytest.mark.slow


class Watcher:
    """Reads cache.json in a loop while the processes run: it must always parse."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reads = 0
        self.torn: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                text = self.path.read_text()
            except FileNotFoundError:
                continue
            self.reads += 1
            try:
                json.loads(text)
            except ValueError:
                self.torn.append(text[:200])


def test_fifty_cold_gets_for_one_registry_make_one_call(
    env: dict[str, str], home: Path, standin: StandIn
) -> None:
    env["AWS_ECR_TIMEOUT"] = "120"
    standin.faults = ["latency:0.5"]  # the first fetch is slow: everyone else must wait for it
    host = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
    with Watcher(home / ".ecr" / "cache.json") as watcher:
        procs = [spawn_get(CONSOLE_SCRIPT, host, env) for _ in range(50)]
        results = [(*proc.communicate(timeout=180), proc.returncode) for proc in procs]
    secrets = {json.loads(out)["Secret"] for out, _err, code in results if code == 0}
    assert [code for *_, code in results] == [0] * 50, [r for r in results if r[2]][:2]
    assert secrets == {"123456789012-eu-west-2-1"}
    assert standin.count() == 1
    assert watcher.torn == []


def test_different_registries_do_not_wait_or_lose_entries(
    env: dict[str, str], home: Path, standin: StandIn
) -> None:
    env["AWS_ECR_TIMEOUT"] = "120"
    hosts = [f"{n}23456789012.dkr.ecr.eu-west-{n}.amazonaws.com" for n in range(1, 6)]
    # A fetch for one registry held open by the stand-in must not hold up the others.
    standin.faults = ["hold"]
    slow = spawn_get(CONSOLE_SCRIPT, hosts[0], env)
    deadline = time.monotonic() + 120
    while standin.count() < 1 and time.monotonic() < deadline:
        time.sleep(0.02)  # until its fetch has reached the stand-in (it holds its lock)
    assert standin.count() == 1
    with Watcher(home / ".ecr" / "cache.json") as watcher:
        procs = [
            (host, spawn_get(CONSOLE_SCRIPT, host, env)) for host in hosts[1:] for _ in range(10)
        ]
        results = [(host, *proc.communicate(timeout=180), proc.returncode) for host, proc in procs]
        assert slow.poll() is None, "the held fetch ended before the others finished"
        standin.release()
        slow.communicate(timeout=180)
    assert slow.returncode == 0
    assert all(code == 0 for *_, code in results), [r for r in results if r[3]][:2]
    assert standin.count() == 5
    cache = json.loads((home / ".ecr" / "cache.json").read_text())["Registries"]
    accounts = sorted(key.rsplit("-", 1)[1] for key in cache)
    assert accounts == sorted(h.split(".")[0] for h in hosts)
    assert watcher.torn == []
