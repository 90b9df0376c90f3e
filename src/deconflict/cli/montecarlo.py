"""``deconflict montecarlo``: a scenario run many times under sets of procedures, compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from deconflict.cli._app import Engine, app, echo_json, fail


@app.command("montecarlo")
def montecarlo(
    scenario: Annotated[
        str, typer.Argument(help="Scenario TOML file, or the built-in 'shared2015'.")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Output folder (runs/, runs.parquet, summary.parquet, report.html)."
        ),
    ],
    runs: Annotated[int, typer.Option("--runs", help="Runs per procedure set.")] = 1000,
    procedures: Annotated[
        list[str] | None,
        typer.Option(
            "--procedures",
            help="Procedures TOML file or built-in name (repeat; the report compares the first "
            "two). Default: memorandum-2015 and hotline-fast.",
        ),
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (else a local cluster).")
    ] = None,
    engine: Annotated[Engine, typer.Option(help="dask, or local (this process only).")] = "dask",
    workers: Annotated[int, typer.Option(help="Workers of the local Dask cluster.")] = 2,
    threads: Annotated[
        bool, typer.Option("--threads", help="Local cluster workers as threads, not processes.")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Runs per unit of work (and file).")] = 100,
    seed: Annotated[int, typer.Option(help="Study seed (run r: seed sequence [seed, r]).")] = 0,
    departure_jitter_s: Annotated[
        float, typer.Option(help="Start times delayed by U(0, this) seconds.")
    ] = 60.0,
    route_sigma_nm: Annotated[
        float, typer.Option(help="Waypoints moved by N(0, this) NM east and north.")
    ] = 1.0,
    dt_s: Annotated[float, typer.Option(help="Simulation step (s).")] = 5.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Run SCENARIO many times with randomised timing and routes under each set of procedures;
    rates of losses of separation, NMACs and unresolved unknown tracks per flight hour."""
    from deconflict.errors import DeconflictError
    from deconflict.montecarlo.procedures import BUILTIN_PROCEDURES, load_procedures
    from deconflict.montecarlo.runner import run_montecarlo
    from deconflict.montecarlo.study import Study
    from deconflict.sim.scenario import BUILTIN_SCENARIO, builtin_scenario_path, load_scenario
    from deconflict.units import NM

    try:
        path = builtin_scenario_path() if scenario == BUILTIN_SCENARIO else Path(scenario)
        scene = load_scenario(path)
        procs = [load_procedures(p) for p in (procedures or list(BUILTIN_PROCEDURES))]
        study = Study(
            seed=seed,
            departure_jitter_s=departure_jitter_s,
            route_sigma_m=route_sigma_nm * NM,
            dt_s=dt_s,
        )
        result = run_montecarlo(
            scene,
            procs,
            runs,
            out,
            study,
            batch_size=batch_size,
            engine="dask" if engine == "dask" else "local",
            scheduler=scheduler,
            workers=workers,
            processes=not threads,
            progress=not quiet,
        )
    except DeconflictError as exc:
        fail(exc)
    echo_json(result)
