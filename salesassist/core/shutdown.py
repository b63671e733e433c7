"""A worker process's graceful stop: after SIGTERM it takes no new work, and work still running when the
grace period ends is interrupted, so it can be handed back instead of hanging the process.

The work itself decides what "taking new work" and "handing back" mean (workflows' attempts); this
module only keeps the state and turns the deadline into an exception in the process's main thread.
"""
import os
import signal
import threading
from contextlib import contextmanager

# Sent by the deadline timer to this process: Python runs signal handlers in the main thread, which is
# the one blocked in the work (a socket read, or waiting for the send threads).
_DEADLINE_SIGNAL = signal.SIGUSR1

_stopping = threading.Event()
_deadline_passed = threading.Event()
_interruptible_depth = 0


class GracePeriodOver(BaseException):
    """Raised in the main thread when the grace period ends inside `interruptible()`. A BaseException, so
    the `except Exception` that keeps a task from raising does not swallow it."""


def stop_requested() -> bool:
    return _stopping.is_set()


def stop_request(*, grace_seconds: float) -> None:
    """Take no new work from now on; interrupt the work still running in `grace_seconds`."""
    if _stopping.is_set():
        return
    _stopping.set()
    timer = threading.Timer(grace_seconds, os.kill, args=(os.getpid(), _DEADLINE_SIGNAL))
    timer.daemon = True
    timer.start()


def _deadline(signum, frame):
    _deadline_passed.set()
    if _interruptible_depth:
        raise GracePeriodOver()


@contextmanager
def interruptible():
    """Work that may be cut short when the grace period ends (GracePeriodOver); nothing else is."""
    global _interruptible_depth
    if _deadline_passed.is_set():
        raise GracePeriodOver()
    _interruptible_depth += 1
    try:
        yield
    finally:
        _interruptible_depth -= 1


def worker_process_install(*, grace_seconds: float) -> None:
    """In a worker process: SIGTERM asks for the graceful stop instead of killing it mid-task."""
    signal.signal(_DEADLINE_SIGNAL, _deadline)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop_request(grace_seconds=grace_seconds))
