"""montecarlo room: a scenario flown many times under sets of procedures, compared.

``run_montecarlo`` (``deconflict montecarlo``) reads procedure sets (``procedures``: TOML, the
separation standard, alert lead time, hotline and pilot response times, identification deadline,
compliance), flies runs with randomised timing and routes (``study``: the randomisation and the
scenario as arrays that runs share; ``model``: one run, its metrics, and the written-out model of
what procedures change), in batches on Dask, resumable (``runner``), and reports rates per flight
hour with exact intervals and the comparison of two sets (``metrics``) as Parquet, plots and HTML
(``report``).
"""

from deconflict.montecarlo.metrics import compare, garwood, rate_interval, rate_ratio, summarise
from deconflict.montecarlo.model import simulate_run
from deconflict.montecarlo.procedures import Distribution, Procedures, load_procedures
from deconflict.montecarlo.runner import StudyError, run_montecarlo, run_study
from deconflict.montecarlo.study import Study, prepare

__all__ = [
    "Distribution",
    "Procedures",
    "Study",
    "StudyError",
    "compare",
    "garwood",
    "load_procedures",
    "prepare",
    "rate_interval",
    "rate_ratio",
    "run_montecarlo",
    "run_study",
    "simulate_run",
    "summarise",
]
