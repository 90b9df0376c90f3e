"""The Monte Carlo driver: batches of runs on Dask (or in this process), resumable, with a progress
bar; times in seconds.

Runs are numbered 0..N-1; run ``r`` of every procedure set flies the same randomised world (see
``deconflict.montecarlo.model``). Runs are grouped in batches of ``batch_size``; each finished
batch is written to ``DIR/runs/<procedures>/runs-<first>-<end>.parquet`` (to a temporary name,
then renamed: a batch file is complete or absent). A rerun skips the batches already written, so a
study stopped by a dead scheduler, a failing worker or a killed process resumes where it stopped,
and asking for more runs adds only the new batches. ``DIR/runs/manifest.json`` records the
scenario, the randomisation and each procedure set; a rerun that changes them is refused.

By default a ``dask.distributed`` LocalCluster of ``workers`` processes is started (nothing to set
up); ``scheduler`` connects to a running scheduler instead.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from deconflict.cluster import dask_client, is_cluster_failure, write_parquet_atomic
from deconflict.errors import ClusterError, DeconflictError, InputError
from deconflict.montecarlo.model import RUN_COLUMNS, simulate_run
from deconflict.montecarlo.procedures import Procedures
from deconflict.montecarlo.study import Prepared, Study, prepare
from deconflict.sim.scenario import Scenario

Engine = Literal["local", "dask"]

__all__ = [
    "Batch",
    "ClusterError",
    "StudyError",
    "plan_batches",
    "run_batch",
    "run_montecarlo",
    "run_study",
]


class StudyError(DeconflictError):
    """A batch of runs failed; the batches finished before it are kept."""


@dataclass(frozen=True, slots=True)
class Batch:
    """Runs ``first`` .. ``end - 1`` of one procedure set."""

    procedures: str
    first: int
    end: int

    def path(self, folder: Path) -> Path:
        return folder / slug(self.procedures) / f"runs-{self.first:07d}-{self.end:07d}.parquet"

    def __str__(self) -> str:
        return f"runs {self.first}-{self.end - 1} of {self.procedures!r}"


def slug(name: str) -> str:
    """A file-system-safe folder name for a procedure set."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "procedures"


def plan_batches(names: Sequence[str], runs: int, batch_size: int) -> list[Batch]:
    """Every batch of a study, procedure set by procedure set."""
    return [
        Batch(name, first, min(first + batch_size, runs))
        for name in names
        for first in range(0, runs, batch_size)
    ]


@functools.lru_cache(maxsize=4)
def _prepared(scenario: Scenario) -> Prepared:
    return prepare(scenario)


def run_batch(
    scenario: Scenario, procedures: Procedures, study: Study, first: int, end: int
) -> pd.DataFrame:
    """Runs ``first`` .. ``end - 1`` of ``procedures``: one row each (columns RUN_COLUMNS)."""
    p = _prepared(scenario)
    rows = [simulate_run(p, procedures, study, r) for r in range(first, end)]
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def scenario_digest(scenario: Scenario) -> str:
    """A digest of everything in the scenario that a run depends on (not the file's path)."""
    return hashlib.sha256(repr(replace(scenario, source="")).encode()).hexdigest()[:16]


def _manifest(
    folder: Path, scenario: Scenario, procs: Sequence[Procedures], study: Study, batch_size: int
) -> None:
    """Create or extend the study's manifest; refuse a rerun that changes what runs mean."""
    path = folder / "manifest.json"
    head = {
        "scenario": scenario.name,
        "scenario_digest": scenario_digest(scenario),
        "study": asdict(study),
        "batch_size": batch_size,
    }
    record: dict[str, Any] = {**head, "procedures": {p.name: p.to_dict() for p in procs}}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(
                f"{path} is unreadable ({exc}); delete {folder} to start the study again"
            ) from None
        if not isinstance(old, dict):
            raise InputError(f"{path} is not a study manifest; delete {folder} to start again")
        changed = [k for k in head if old.get(k) != head[k]]
        known: dict[str, Any] = old.get("procedures", {})
        changed += [
            f"procedures {n!r}" for n, d in record["procedures"].items() if known.get(n, d) != d
        ]
        if changed:
            raise InputError(
                f"{folder} holds runs of a study with another {', '.join(changed)}; give another "
                f"--out, or delete {folder} to start again"
            )
        record["procedures"] = {**known, **record["procedures"]}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".manifest.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _execute(
    engine: Engine,
    scenario: Scenario,
    procs: dict[str, Procedures],
    study: Study,
    todo: Sequence[Batch],
    scheduler: str | None,
    workers: int,
    processes: bool,
    timeout_s: float,
) -> Iterator[tuple[Batch, pd.DataFrame]]:
    if not todo:
        return
    if engine == "local":
        for b in todo:
            try:
                frame = run_batch(scenario, procs[b.procedures], study, b.first, b.end)
            except DeconflictError:
                raise
            except Exception as exc:
                raise StudyError(
                    f"{b} failed ({type(exc).__name__}: {exc}); the batches finished so far are "
                    "kept: fix the cause and rerun the same command to resume"
                ) from exc
            yield b, frame
        return
    from distributed import as_completed

    with dask_client(scheduler, workers, processes, timeout_s) as (client, address):
        futures: dict[Any, Batch] = {}
        batch: Batch | None = None
        try:
            futures = {
                client.submit(
                    run_batch, scenario, procs[b.procedures], study, b.first, b.end, pure=False
                ): b
                for b in todo
            }
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                batch = futures[fut]
                yield batch, fut.result()
        except GeneratorExit:
            raise
        except DeconflictError:
            raise
        except Exception as exc:
            what = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            if is_cluster_failure(exc):
                raise ClusterError(
                    f"the Dask scheduler at {address} was lost during the study "
                    f"({what}); the batches finished so far are kept: "
                    "rerun the same command to resume"
                ) from exc
            raise StudyError(
                f"{batch or 'a batch'} failed on a Dask worker of {address} "
                f"({what}); the batches finished so far are kept: fix the "
                "cause and rerun the same command to resume"
            ) from exc


def run_study(
    scenario: Scenario,
    procedures: Sequence[Procedures],
    runs: int,
    out_dir: str | Path,
    study: Study | None = None,
    *,
    batch_size: int = 100,
    engine: Engine = "dask",
    scheduler: str | None = None,
    workers: int = 2,
    processes: bool = True,
    progress: bool = True,
    scheduler_timeout_s: float = 10.0,
    on_batch: Callable[[Batch], None] | None = None,
) -> pd.DataFrame:
    """Runs 0..``runs``-1 of each procedure set, batches kept under ``out_dir/runs``; all rows.

    Batches already in ``out_dir`` are not run again. Raises ``ClusterError`` (naming the
    scheduler address) when the scheduler cannot be reached or is lost, ``StudyError`` when a
    batch fails; in both cases the batches finished are kept.
    """
    study = study or Study()
    if engine not in ("local", "dask"):
        raise InputError(f"unknown engine {engine!r}: use 'local' or 'dask'")
    if runs < 1:
        raise InputError(f"--runs is {runs}; ask for at least 1 run")
    if batch_size < 1:
        raise InputError(f"batch size is {batch_size}; it must be at least 1")
    if not procedures:
        raise InputError("no procedures: give at least one procedures file")
    names = [p.name for p in procedures]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(
            f"procedure set name(s) {', '.join(dup)} given twice; each set needs its own name"
        )
    folder = Path(out_dir) / "runs"
    _manifest(folder, scenario, procedures, study, batch_size)
    batches = plan_batches(names, runs, batch_size)
    todo = [b for b in batches if not b.path(folder).is_file()]
    procs = {p.name: p for p in procedures}

    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    total = len(names) * runs
    done = total - sum(b.end - b.first for b in todo)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not progress,
    ) as bar:
        task = bar.add_task("Monte Carlo runs", total=total, completed=done)
        for batch, frame in _execute(
            engine, scenario, procs, study, todo, scheduler, workers, processes,
            scheduler_timeout_s,
        ):  # fmt: skip
            write_parquet_atomic(frame, batch.path(folder))
            bar.advance(task, batch.end - batch.first)
            if on_batch is not None:
                on_batch(batch)
    return read_runs(folder, batches)


def read_runs(folder: Path, batches: Sequence[Batch]) -> pd.DataFrame:
    """The rows of ``batches`` from their files, in procedure and run order."""
    parts = []
    for b in batches:
        path = b.path(folder)
        try:
            parts.append(pd.read_parquet(path))
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise InputError(
                f"{path} cannot be read ({type(exc).__name__}: {exc}); delete it and rerun the "
                "same command: that batch is run again"
            ) from None
    frame = pd.concat(parts, ignore_index=True)
    missing = [c for c in RUN_COLUMNS if c not in frame]
    if missing:
        raise InputError(
            f"run files under {folder} lack column(s) {', '.join(missing)}: written by another "
            f"version? Delete {folder} and run the study again"
        )
    return frame[list(RUN_COLUMNS)]


def run_montecarlo(
    scenario: Scenario,
    procedures: Sequence[Procedures],
    runs: int,
    out_dir: str | Path,
    study: Study | None = None,
    confidence: float = 0.95,
    **options: Any,
) -> dict[str, Any]:
    """``run_study`` then ``report.write_outputs``: the whole study written into ``out_dir``
    (runs.parquet, summary.parquet, comparison.parquet, plots, report.html); a JSON summary.

    ``options`` are those of ``run_study`` (batch_size, engine, scheduler, workers, ...).
    """
    from deconflict.montecarlo.report import write_outputs

    study = study or Study()
    frame = run_study(scenario, procedures, runs, out_dir, study, **options)
    return write_outputs(frame, out_dir, procedures, scenario.name, study, confidence)
