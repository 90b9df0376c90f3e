"""What the resumable drivers on Dask share (analysis windows, Monte Carlo batches): a client on a
running scheduler or on a new LocalCluster, telling a lost cluster from a failing task, and
writing a result file atomically (a file is complete or absent)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from deconflict.errors import ClusterError


@contextmanager
def dask_client(
    scheduler: str | None, workers: int = 2, processes: bool = True, timeout_s: float = 10.0
) -> Iterator[tuple[Any, str]]:
    """A ``distributed.Client`` and its scheduler address: ``scheduler``'s, or a new
    LocalCluster's (``workers`` workers of one thread, processes or threads). Raises
    ``ClusterError`` naming ``scheduler`` when it cannot be reached in ``timeout_s``."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{timeout_s}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc}); check the address "
                "or leave --scheduler out for a local cluster"
            ) from None
        try:
            yield client, scheduler
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    try:
        yield client, str(cluster.scheduler_address)
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()


def is_cluster_failure(exc: BaseException) -> bool:
    """Whether an exception from a future means the scheduler or a worker is gone (rather than
    the task itself failing)."""
    names = {c.__name__ for c in type(exc).__mro__}
    return isinstance(exc, OSError | TimeoutError | CancelledError) or bool(
        names & {"CommClosedError", "KilledWorker", "FutureCancelledError"}
    )


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` (its folder made if needed) through a temporary name and a
    rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
