"""analysis room: every loss of separation and closest approach in recorded traffic.

``analyse_files`` (``deconflict analyze``) reads traffic-style or OpenSky recordings
(``inputs``), cuts time into overlapping windows (``windows``) run in-process or on Dask
(``run``), resamples each aircraft onto a common time grid and screens pairs (``screen``),
merges steps into encounters with their closest approach, loss time and severity
(``encounters``), and writes ``events.parquet``, ``events.json`` and ``report.html``
(``report``). ``synthetic`` makes a synthetic day for benchmarks.
"""

from deconflict.analysis.run import analyse_files, events_json
from deconflict.analysis.synthetic import write_synthetic_day
from deconflict.errors import ClusterError
from deconflict.incidents.severity import severity_classes as severity_of

__all__ = ["ClusterError", "analyse_files", "events_json", "severity_of", "write_synthetic_day"]
