"""Work in threads under a deadline: the caller gets an answer by then, whatever the work does.

The one deadline runner: ``get``/``list`` fetch through it (DNS, imports and credential
resolution included, none of which botocore's own timeouts bound) and ``doctor`` runs its AWS
calls in parallel through it. A worker that outlives its deadline is abandoned (daemon thread);
the CLI leaves with ``os._exit`` and never waits for it.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    _T = TypeVar("_T")


class DeadlineExceeded(Exception):
    """The work did not finish by the deadline (it may still be running in its thread)."""


def run_all(jobs: dict[str, Callable[[], Any]], deadline: float) -> dict[str, Any]:
    """Run every job in its own thread; each result is the value, the exception it raised, or
    ``DeadlineExceeded`` when it had not finished by ``deadline`` (a ``time.monotonic()`` time)."""
    # Imported before any worker starts: a worker abandoned while it imports would otherwise
    # hold the module's import lock, and the main thread would wait on it to leave.
    import fcntl  # noqa: F401
    import re  # noqa: F401
    import threading

    results: dict[str, Any] = {}

    def work(name: str, job: Callable[[], Any]) -> None:
        try:
            results[name] = job()
        except BaseException as err:
            results[name] = err

    threads = [
        threading.Thread(target=work, args=(name, job), name=f"ecr-{name}", daemon=True)
        for name, job in jobs.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return {
        name: results.get(name, DeadlineExceeded("no answer within the time bound"))
        for name in jobs
    }


def run_bounded(work: Callable[[], _T], deadline: float) -> _T:
    """``work()``'s value, or what it raised; ``DeadlineExceeded`` when it is not done by then."""
    result = run_all({"fetch": work}, deadline)["fetch"]
    if isinstance(result, BaseException):
        raise result
    value: _T = result
    return value
