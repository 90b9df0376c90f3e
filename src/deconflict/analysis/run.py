"""The analysis driver: windows on a local loop or on Dask, resumable, with a progress bar.

Each window's events are written to ``DIR/windows/<start>.parquet`` as soon as the window is
done (written to a temporary name, then renamed: a window file is complete or absent). A rerun
with the same inputs and parameters skips the windows already written, so a run stopped by a
dead scheduler, a killed process or a bad file resumes where it stopped. ``DIR/windows/
manifest.json`` records the parameters and the input files (path, size, modification time); a
rerun with other parameters or changed files is refused.

On a real cluster (``scheduler`` given) the workers read the input files themselves, so the paths
must be visible to them (a shared filesystem); results come back to this process, which writes
them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from deconflict.analysis.inputs import Source, open_source
from deconflict.analysis.windows import EVENT_COLUMNS, Params, analyse_window, empty_events, plan
from deconflict.cluster import dask_client, is_cluster_failure, write_parquet_atomic
from deconflict.errors import ClusterError, InputError
from deconflict.units import FT, NM

Engine = Literal["local", "dask"]
LEVEL_TOLERANCE_FT = 200.0  # ICAO Doc 4444 §8.5.5.1, RVSM airspace (encounters module note)
Window = tuple[float, float]


def median_step_s(sources: Sequence[Source], t_min_s: float) -> float:
    """The grid step: the median sampling interval of the first hour, whole seconds, >= 1."""
    from deconflict.analysis.windows import read_canonical

    data = read_canonical(sources, t_min_s, t_min_s + 3600.0)
    t = data["t_s"].to_numpy(np.float64)
    same = data["id"].to_numpy(dtype=str)
    dt = np.diff(t)[(same[1:] == same[:-1]) & (np.diff(t) > 0)]
    return float(max(1.0, np.rint(np.median(dt)))) if dt.size else 1.0


def make_params(
    sources: Sequence[Source],
    t_min_s: float,
    standard: str = "icao-5nm",
    screen_nm: float = 10.0,
    screen_ft: float = 2000.0,
    step_s: float | None = None,
    max_gap_s: float = 60.0,
    window_s: float = 3600.0,
    overlap_s: float = 600.0,
    start_s: float | None = None,
    stop_s: float | None = None,
    level_tolerance_ft: float = LEVEL_TOLERANCE_FT,
) -> Params:
    """Analysis parameters, the standard's minima looked up and the step chosen if not given."""
    from deconflict.predict.standards import get_standard

    std = get_standard(standard)
    step = float(step_s) if step_s else median_step_s(sources, t_min_s)
    if window_s % step:
        window_s = float(np.ceil(window_s / step) * step)
    if not 0.0 <= level_tolerance_ft < 500.0:
        raise InputError(
            f"level tolerance {level_tolerance_ft} ft: give 0 (off) up to below 500 ft "
            "(ICAO Doc 4444 §8.5.5.1: 200 ft in RVSM airspace, 300 ft elsewhere)"
        )
    if screen_nm * NM < std.separation.horizontal_m or screen_ft * FT < std.separation.vertical_m:
        raise InputError(
            f"screening distances ({screen_nm} NM, {screen_ft} ft) must be at least the minima "
            f"of {std.name} ({std.separation.horizontal_m / NM:g} NM, "
            f"{std.separation.vertical_m / FT:g} ft)"
        )
    return Params(
        standard=std.name,
        h_m=std.separation.horizontal_m,
        v_m=std.separation.vertical_m,
        tol_m=std.vertical_tolerance_m,
        screen_h_m=screen_nm * NM,
        screen_v_m=screen_ft * FT,
        step_s=step,
        max_gap_s=float(max_gap_s),
        window_s=float(window_s),
        overlap_s=max(float(overlap_s), step),
        start_s=float("-inf") if start_s is None else float(start_s),
        stop_s=float("inf") if stop_s is None else float(stop_s),
        level_tol_m=float(level_tolerance_ft) * FT,
    )


def _epoch(when: str | pd.Timestamp) -> float:
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return float(stamp.value) / 1e9


def _window_path(folder: Path, window: Window) -> Path:
    return folder / f"{int(window[0])}.parquet"


def _manifest(folder: Path, params: Params, files: Sequence[Path]) -> None:
    """Create the run's manifest, or check that the one there has the same parameters."""
    path = folder / "manifest.json"
    stats = [(str(Path(f).resolve()), Path(f).stat()) for f in files]
    record = {
        "params": asdict(params),
        "files": sorted([name, st.st_size, st.st_mtime_ns] for name, st in stats),
    }
    if path.is_file():
        old = json.loads(path.read_text())
        if old != record:
            raise InputError(
                f"{folder} holds windows of a run with other inputs or parameters; give another "
                f"--out, or delete {folder} to start again"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def _run_windows(
    engine: Engine,
    sources: Sequence[Source],
    params: Params,
    todo: Sequence[Window],
    data_end_s: float,
    scheduler: str | None,
    workers: int,
    processes: bool,
    timeout_s: float,
) -> Iterator[tuple[Window, pd.DataFrame]]:
    if engine == "local":
        for w in todo:
            yield w, analyse_window(sources, params, w[0], w[1], data_end_s)
        return
    from distributed import as_completed

    with dask_client(scheduler, workers, processes, timeout_s) as (client, address):
        try:
            futures = {
                client.submit(
                    analyse_window, list(sources), params, w[0], w[1], data_end_s, pure=False
                ): w
                for w in todo
            }
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                yield futures[fut], fut.result()
        except GeneratorExit:
            raise
        except Exception as exc:
            if not is_cluster_failure(exc):
                raise  # a window failed as it would on the local engine
            what = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            raise ClusterError(
                f"the Dask scheduler at {address} was lost during the run ({what}); the "
                "windows finished so far are kept: rerun the same command to resume"
            ) from exc


def analyse_files(
    files: Sequence[str | Path],
    out_dir: str | Path,
    standard: str = "icao-5nm",
    screen_nm: float = 10.0,
    screen_ft: float = 2000.0,
    engine: Engine = "local",
    scheduler: str | None = None,
    step_s: float | None = None,
    max_gap_s: float = 60.0,
    window_s: float = 3600.0,
    overlap_s: float = 600.0,
    start: str | pd.Timestamp | None = None,
    stop: str | pd.Timestamp | None = None,
    workers: int = 2,
    processes: bool = True,
    progress: bool = True,
    scheduler_timeout_s: float = 10.0,
    on_window: Callable[[Window], None] | None = None,
    level_tolerance_ft: float = LEVEL_TOLERANCE_FT,
) -> pd.DataFrame:
    """Every encounter in the recordings, written to ``out_dir`` (see ``write_outputs``).

    ``start`` / ``stop`` (UTC; naive times are UTC) leave out the data outside ``[start, stop)``.
    ``level_tolerance_ft``: pairs on adjacent flight levels within this of their levels are
    reported as ``adjacent_levels``, not as losses (``deconflict.analysis.encounters``; 0: off).

    Returns the events, sorted by time of closest approach.
    """
    if engine not in ("local", "dask"):
        raise InputError(f"unknown engine {engine!r}: use 'local' or 'dask'")
    if not files:
        raise InputError("no input files: give one or more Parquet or CSV recordings")
    sources = []
    for src in (open_source(f) for f in files):
        span = src.time_range_s()
        if span is not None:
            sources.append(replace(src, t_min_s=span[0], t_max_s=span[1]))
    ranges = [(s.t_min_s, s.t_max_s) for s in sources]
    if not ranges:
        raise InputError("the input files hold no rows with a time")
    t_min, t_max = min(r[0] for r in ranges), max(r[1] for r in ranges)
    start_s = _epoch(start) if start is not None else None
    stop_s = _epoch(stop) if stop is not None else None
    t_min = max(t_min, start_s) if start_s is not None else t_min
    t_max = min(t_max, stop_s - 1e-6) if stop_s is not None else t_max
    if t_max < t_min:
        raise InputError(f"no data between {start} and {stop}: check --start / --stop (UTC)")
    params = make_params(
        sources,
        t_min,
        standard,
        screen_nm,
        screen_ft,
        step_s,
        max_gap_s,
        window_s,
        overlap_s,
        start_s,
        stop_s,
        level_tolerance_ft,
    )
    out = Path(out_dir)
    folder = out / "windows"
    _manifest(folder, params, [Path(f) for f in files])
    windows = plan(t_min, t_max, params.window_s)
    todo = [w for w in windows if not _window_path(folder, w).is_file()]

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # diagnostics on stderr; the summary JSON is stdout's
        disable=not progress,
    ) as bar:
        task = bar.add_task(
            "analysing windows", total=len(windows), completed=len(windows) - len(todo)
        )
        for window, events in _run_windows(
            engine, sources, params, todo, t_max, scheduler, workers, processes, scheduler_timeout_s
        ):
            write_parquet_atomic(events, _window_path(folder, window))
            bar.advance(task)
            if on_window is not None:
                on_window(window)

    parts = [pd.read_parquet(_window_path(folder, w)) for w in windows]
    parts = [p for p in parts if len(p)]
    events = pd.concat(parts, ignore_index=True) if parts else empty_events()
    events = events.sort_values(["t_cpa", "a", "b"], kind="stable").reset_index(drop=True)
    write_outputs(events, out, params)
    return events[list(EVENT_COLUMNS)]


def events_json(events: pd.DataFrame) -> list[dict[str, Any]]:
    """The events as JSON-ready dicts (times in ISO 8601 UTC)."""
    rows: list[dict[str, Any]] = []
    for r in events.to_dict("records"):
        rows.append(
            {
                "a": r["a"],
                "b": r["b"],
                "callsign_a": r["callsign_a"],
                "callsign_b": r["callsign_b"],
                "t_cpa": pd.Timestamp(r["t_cpa"]).isoformat(),
                "dcpa_nm": round(float(r["dcpa_nm"]), 4),
                "dalt_ft": round(float(r["dalt_ft"]), 1),
                "duration_s": round(float(r["duration_s"]), 2),
                "severity": r["severity"],
                "loss": bool(r["loss"]),
                "latitude": round(float(r["latitude"]), 6),
                "longitude": round(float(r["longitude"]), 6),
                "altitude_ft": round(float(r["altitude_ft"]), 1),
                "category": r["category"],
                "during_loss": None
                if pd.isna(r["loss_min_h_nm"])
                else {
                    "closest_horizontal_nm": round(float(r["loss_min_h_nm"]), 4),
                    "closest_horizontal_t": pd.Timestamp(r["loss_min_h_t"]).isoformat(),
                    "least_vertical_ft": round(float(r["loss_min_v_ft"]), 1),
                    "least_vertical_t": pd.Timestamp(r["loss_min_v_t"]).isoformat(),
                },
            }
        )
    return rows


def write_outputs(events: pd.DataFrame, out: Path, params: Params) -> None:
    """``events.parquet``, ``events.json`` and ``report.html`` in ``out`` (each written whole)."""
    from deconflict.analysis.report import render_report

    out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(events, out / "events.parquet")
    tmp = out / ".events.json.tmp"
    tmp.write_text(json.dumps(events_json(events), indent=1))
    os.replace(tmp, out / "events.json")
    tmp = out / ".report.html.tmp"
    tmp.write_text(render_report(events, params))
    os.replace(tmp, out / "report.html")
