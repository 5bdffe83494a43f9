"""Worker processes that can be killed: a per-job time limit, and a crash that costs one job.

`concurrent.futures.ProcessPoolExecutor` can neither stop one running task nor say which
task killed a worker (every pending future gets `BrokenProcessPool`). Here each worker runs
one job at a time over its own pipes, so the parent knows which job a dead or overdue
worker held: that job gets the caller's timeout or crash result, the worker is replaced,
and the other jobs go on. Results come back in input order, with a few jobs read ahead.

Workers are fresh interpreters (`python -c ...`, talking over two pipes), not forks of the
caller: the caller may hold threads (torch, Chroma), and unlike multiprocessing's spawn or
forkserver nothing re-runs the caller's main script. They see the caller's environment,
`sys.path` and current folder, and ignore Ctrl-C (the caller stops them).
"""
from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any, Callable, Iterator, Optional, Sequence

MAX_TASKS_PER_WORKER = 500  # a long run recycles workers, so no parser leak grows for ever
_BOOT = "import sys; from minutes.ingest.pool import _child_main; _child_main(int(sys.argv[1]), int(sys.argv[2]))"


def _child_main(read_fd: int, write_fd: int) -> None:
    """The worker's loop: (index, pickled (fn, args, cwd)) in, (index, (status, value)) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inbox, outbox = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        if message[0] == "path":
            sys.path[:] = message[1]
            continue
        index, blob = message
        try:
            fn, args, cwd = pickle.loads(blob)
            if cwd and os.getcwd() != cwd:
                os.chdir(cwd)
            reply: tuple[str, Any] = ("ok", fn(*args))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never raised here
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            outbox.send((index, reply))
        except Exception as exc:  # the result would not pickle
            outbox.send((index, ("error", f"result could not be returned ({type(exc).__name__}: {exc})")))


class _Worker:
    def __init__(self) -> None:
        if not sys.executable:
            raise OSError("no Python executable to start workers with")
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(to_child_r), str(from_child_w)],
                pass_fds=(to_child_r, from_child_w), env=env, stdin=subprocess.DEVNULL, close_fds=True)
        except BaseException:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise
        os.close(to_child_r)
        os.close(from_child_w)
        self.inbox = Connection(from_child_r, writable=False)
        self.outbox = Connection(to_child_w, readable=False)
        self.outbox.send(("path", list(sys.path)))
        self.job: Optional[int] = None
        self.started = 0.0
        self.tasks = 0

    def send(self, index: int, fn, args: tuple, cwd: str) -> None:
        blob = pickle.dumps((fn, args, cwd))  # raises here, in the caller, if it will not pickle
        self.outbox.send((index, blob))
        self.job, self.started = index, time.monotonic()
        self.tasks += 1

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, kill: bool = False) -> Optional[int]:
        """End the process; its exit code (negative: the signal that ended it)."""
        if not kill:
            try:
                self.outbox.send(None)
                self.process.wait(2)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for conn in (self.inbox, self.outbox):
            try:
                conn.close()
            except OSError:
                pass
        return self.process.returncode


def run_isolated(
    fn: Callable[..., Any],
    jobs: Sequence[tuple],
    *,
    workers: int,
    timeout: Optional[float],
    on_timeout: Callable[[int], Any],
    on_crash: Callable[[int, Optional[int]], Any],
    on_error: Callable[[int, str], Any],
    read_ahead: Optional[int] = None,
) -> Iterator[Any]:
    """`fn(*job)` for each job in worker processes; results in input order.

    `fn` must be importable (a module-level function) and its arguments and results
    picklable. A job running past `timeout` seconds is killed and yields `on_timeout(i)`;
    one whose worker dies yields `on_crash(i, exit_code)`; one where `fn` raises yields
    `on_error(i, "Type: message")`. Where no process can be started, jobs run in this
    process (without the time limit)."""
    total = len(jobs)
    if total == 0:
        return
    workers = max(1, min(workers, total))
    window = read_ahead if read_ahead is not None else workers * 4
    cwd = os.getcwd()
    pending = deque(range(total))
    results: dict[int, Any] = {}
    idle: list[_Worker] = []
    busy: list[_Worker] = []
    next_out = 0
    inline = False
    try:
        while next_out < total:
            # hand out jobs, never running far ahead of the next result to give back
            while pending and pending[0] < next_out + window and (idle or len(busy) < workers):
                index = pending.popleft()
                if inline:
                    results[index] = _call_inline(fn, jobs[index], index, on_error)
                    continue
                try:
                    worker = idle.pop() if idle else _Worker()
                except (OSError, ValueError, NotImplementedError):  # no processes here: run in-process
                    inline = True
                    results[index] = _call_inline(fn, jobs[index], index, on_error)
                    continue
                try:
                    worker.send(index, fn, tuple(jobs[index]), cwd)
                except (OSError, ValueError):  # died while idle
                    results[index] = on_crash(index, worker.stop(kill=True))
                    continue
                except Exception as exc:  # the job would not pickle
                    results[index] = on_error(index, f"{type(exc).__name__}: {exc}")
                    idle.append(worker)
                    continue
                busy.append(worker)
            while next_out in results:
                yield results.pop(next_out)
                next_out += 1
            if next_out >= total or not busy:
                continue
            wait_s = None
            if timeout is not None:
                now = time.monotonic()
                wait_s = max(0.0, min(w.started + timeout - now for w in busy))
            ready = set(wait([w.inbox for w in busy], wait_s))
            now = time.monotonic()
            for worker in list(busy):
                index = worker.job
                assert index is not None
                if worker.inbox in ready:
                    reply = _receive(worker)
                    busy.remove(worker)
                    if reply is None:  # the worker died: a crash or a kill from outside
                        results[index] = on_crash(index, worker.stop(kill=True))
                        continue
                    status, payload = reply
                    results[index] = payload if status == "ok" else on_error(index, payload)
                    worker.job = None
                    if worker.tasks >= MAX_TASKS_PER_WORKER or not worker.alive():
                        worker.stop()
                    else:
                        idle.append(worker)
                elif timeout is not None and now - worker.started >= timeout:
                    busy.remove(worker)
                    worker.stop(kill=True)
                    results[index] = on_timeout(index)
    finally:
        for worker in busy:
            worker.stop(kill=True)
        for worker in idle:
            worker.stop()


def _receive(worker: _Worker) -> Optional[tuple[str, Any]]:
    """The worker's reply; None when it died (its pipe closed before a whole reply came)."""
    try:
        index, reply = worker.inbox.recv()
    except (EOFError, OSError, ValueError):
        return None
    except Exception:  # a reply that will not unpickle
        return ("error", "the reader's result could not be read back")
    return reply if index == worker.job else None


def _call_inline(fn, job, index, on_error):
    try:
        return fn(*job)
    except Exception as exc:
        return on_error(index, f"{type(exc).__name__}: {exc}")
