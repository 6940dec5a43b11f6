"""Where the chunks run: in this process, in local processes, or on a Dask cluster.

All three give futures and a "wait for the first to finish" call, so that one loop
(``driver``) streams results, sizes chunks and survives a dead worker the same way everywhere.

* ``SerialEngine``: ``jobs = 1``; the chunk runs when submitted (no process, no pickling).
* ``ProcessEngine``: ``concurrent.futures.ProcessPoolExecutor`` (the standard library: no extra
  dependency, futures with ``wait(FIRST_COMPLETED)`` like Dask's, and a clear
  ``BrokenProcessPool`` when the system kills a worker).  Workers start through a fork server
  (spawn where there is none), which imports exactconvex once and forks workers from a clean
  process: no fork of a process that runs threads (the progress bar's, Dask's).  As with every
  spawn-based pool, a script that calls ``sweep(..., jobs=2)`` needs the usual
  ``if __name__ == "__main__":`` guard.
* ``DaskEngine``: ``distributed.Client`` on a scheduler address, a scheduler file (as written by
  dask-jobqueue / dask-mpi), or ``"local"`` for a ``LocalCluster`` of one-thread worker processes
  (exact arithmetic holds the GIL: threads would not run in parallel).
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool

from .spec import SweepError
from .worker import WARM_MODULES, run_task

__all__ = ["SerialEngine", "ProcessEngine", "DaskEngine", "cpu_count", "DASK_MISSING"]

DASK_MISSING = ("--dask needs the optional dependency dask[distributed]; install it with "
                "pip install 'exactconvex[dask]' (or pip install 'dask[distributed]')")


_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class SerialEngine:
    workers = 1
    description = "serial (this process)"
    worker_died: tuple = ()

    def submit(self, task, options) -> Future:
        future: Future = Future()
        try:
            future.set_result(run_task(task, options))
        except Exception as exc:  # noqa: BLE001 - delivered through the future, like the other engines
            future.set_exception(exc)
        return future

    def wait(self, futures) -> set:
        return set(futures)

    def restart(self) -> None:
        pass

    def close(self, cancel: bool = False) -> None:
        pass


class ProcessEngine:
    worker_died = (BrokenProcessPool,)

    def __init__(self, jobs: int):
        import multiprocessing

        self.workers = jobs
        self.description = f"{jobs} local processes"
        methods = multiprocessing.get_all_start_methods()
        if "forkserver" in methods:
            self._context = multiprocessing.get_context("forkserver")
            # the server imports these once; every worker forked from it starts warm
            self._context.set_forkserver_preload(["exactconvex.sweep.worker", *WARM_MODULES])
            from multiprocessing import forkserver

            # one BLAS thread per worker (the matrices are tiny; N workers each running a pool of BLAS
            # threads would compete for the cores), unless the user chose otherwise; the server and the
            # workers forked from it take the environment it starts with
            saved = {k: os.environ.get(k) for k in _ONE_THREAD}
            for k in _ONE_THREAD:
                os.environ.setdefault(k, "1")
            try:
                forkserver.ensure_running()  # returns at once: the server imports while the caller goes on
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        else:  # pragma: no cover - Windows
            self._context = multiprocessing.get_context("spawn")
        self.generation = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)

    def submit(self, task, options) -> Future:
        future = self._pool.submit(run_task, task, options)
        future.generation = self.generation
        return future

    def wait(self, futures) -> set:
        return futures_wait(futures, return_when=FIRST_COMPLETED).done

    def restart(self) -> None:
        """A new pool after a worker died (the broken pool fails all its futures)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.generation += 1
        self._pool = self._new_pool()

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel)


class DaskEngine:
    def __init__(self, address, jobs: int | None):
        try:
            import distributed
        except ImportError:
            raise SweepError(DASK_MISSING) from None
        self._distributed = distributed
        self._cluster = None
        self._own_client = True
        self.worker_died = (distributed.KilledWorker,)
        try:
            if isinstance(address, distributed.Client):  # the caller's client: used, not closed
                self.client, self._own_client = address, False
                self.description = f"Dask cluster at {address.scheduler.address}"
            elif address == "local":
                import logging

                n = jobs or cpu_count()
                self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                         dashboard_address=None, silence_logs=logging.ERROR)
                self.client = distributed.Client(self._cluster)
                self.description = f"Dask LocalCluster of {n} worker processes"
            elif os.path.isfile(address):
                self.client = distributed.Client(scheduler_file=address, timeout="30s")
                self.description = f"Dask cluster of scheduler file {address}"
            else:
                self.client = distributed.Client(address, timeout="30s")
                self.description = f"Dask cluster at {address}"
        except (OSError, TimeoutError, ValueError) as exc:
            self.close()
            raise SweepError(f"cannot reach the Dask scheduler {address!r} ({type(exc).__name__}: {exc}); "
                             "give a scheduler address such as tcp://host:8786, a scheduler file, or local") from None
        self._workers, self._counted = 1, -1e9

    @property
    def workers(self) -> int:
        """Worker threads in the cluster, counted again every few seconds (an adaptive cluster grows)."""
        import time

        if time.monotonic() - self._counted > 5:
            try:
                self._workers = max(1, sum(self.client.nthreads().values()))
            except Exception:  # noqa: BLE001 - keep the last count; a lost cluster shows in the futures
                pass
            self._counted = time.monotonic()
        return self._workers

    def submit(self, task, options) -> Future:
        return self.client.submit(run_task, task, options, pure=False)

    def wait(self, futures) -> set:
        return set(self._distributed.wait(list(futures), return_when="FIRST_COMPLETED").done)

    def restart(self) -> None:
        pass  # Dask replaces dead workers itself

    def close(self, cancel: bool = False) -> None:
        client = getattr(self, "client", None)
        if not self._own_client:
            return  # the caller's client stays open; futures of this sweep go with their references
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a lost cluster must not hide the first error
                pass
        if self._cluster is not None:
            try:
                self._cluster.close()
            except Exception:  # noqa: BLE001
                pass
