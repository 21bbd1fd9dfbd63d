"""Write a calibrated scenario as a readable YAML file, every fitted number commented.

The grids and the grid × category rate multipliers go to CSV files beside the
YAML (``<stem>_grids.csv``, ``<stem>_rates.csv``); the YAML says where each
number came from: cases, window, confidence interval, the fit that chose it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

if TYPE_CHECKING:
    from govsim.calibration.fit import Calibration

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ./()-]*$")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _key(k: str) -> str:
    k = str(k)
    if _PLAIN_KEY.match(k) and not k.endswith(" ") and k.lower() not in ("yes", "no", "on", "off", "true",
                                                                         "false", "null", "y", "n"):
        return k
    # Escaped when it holds a character YAML would read as a line break (U+2028, U+0085...).
    return json.dumps(k, ensure_ascii=not k.isprintable())


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True,
                          sort_keys=False).strip().removesuffix("...").strip()


def _line(indent: int, key: str, value: Any, comment: str = "") -> str:
    text = f"{'  ' * indent}{_key(key)}: {_flow(value)}"
    return f"{text}  # {comment}" if comment else text


def write_map_geojson(cal: Calibration, path: Path) -> Path:
    """Write the grids' polygons to ``path``: a GeoJSON FeatureCollection in the metric
    coordinates of the scenario's ``x_m, y_m`` (the calibration's local projection, named in
    the ``govsim`` member; coordinates to the centimetre), property ``name`` = grid name."""
    import shapely

    names = cal.grids["name"].astype(str).tolist()
    features = []
    for name, poly in zip(names, cal.gridmap.polygons):
        geom = shapely.set_precision(poly, 0.01, mode="pointwise") if poly is not None else None
        if geom is None or geom.is_empty:
            continue
        features.append({"type": "Feature", "properties": {"name": name},
                         "geometry": shapely.geometry.mapping(geom)})
    doc = {"type": "FeatureCollection",
           "govsim": {"units": "m", "crs": cal.gridmap.crs,
                      "note": "grid polygons in the scenario's metres (x_m, y_m), for maps only"},
           "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    return path


def check_destination(path: str | Path) -> Path:
    """``path`` as a place a scenario file can be written (its folder made if missing); a
    :class:`CalibrationError` naming it when it cannot (a folder, or below a file)."""
    from govsim.calibration.errors import CalibrationError

    path = Path(path)
    if path.is_dir():
        raise CalibrationError(f"--out {path}: is a folder; give the scenario file's name, e.g. {path / 'district.yaml'}")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise CalibrationError(f"--out {path}: {parent} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CalibrationError(f"--out {path}: cannot make its folder ({err.strerror})") from None
    return path


def write_scenario(cal: Calibration, path: Path) -> Path:
    """Write ``cal`` to ``path`` (YAML) and its CSV tables beside it (and, when the grids
    come from a map, ``<stem>_map.geojson`` of their polygons for drawing)."""
    path = check_destination(path)
    stem = path.stem
    grids_file = path.with_name(f"{stem}_grids.csv")
    rates_file = path.with_name(f"{stem}_rates.csv")
    doc = cal.data
    terr = doc["territory"]
    pd.DataFrame(terr["grids"]).to_csv(grids_file, index=False)
    # A category called 'grid' cannot be a column of the rates table (its key column): then
    # the multipliers go inline in the YAML.
    rates_inline = "grid" in terr["rate_multipliers"]
    if not rates_inline:
        rates = pd.DataFrame(terr["rate_multipliers"])
        rates.index.name = "grid"
        rates.reset_index().to_csv(rates_file, index=False)
    map_file = None
    if getattr(cal.gridmap, "polygons", None) is not None:  # the real polygons, for maps
        map_file = path.with_name(f"{stem}_map.geojson")
        write_map_geojson(cal, map_file)
    points_file = None
    if terr.get("points_csv"):  # patrol points inside the map's polygons
        points_file = path.with_name(f"{stem}_points.csv")
        shutil.copyfile(terr["points_csv"], points_file)

    w0, w1 = cal.window
    days = (w1 - w0) / pd.Timedelta(days=1)
    arr = cal.arrivals
    out: list[str] = [
        f"# Calibrated by `govsim calibrate` from {Path(cal.source).name}",
        f"# window {w0:%Y-%m-%d %H:%M} – {w1:%Y-%m-%d %H:%M} ({days:.2f} days observed; rates use the true window),",
        f"# {int(arr.n_cases.sum()):,} cases in {len(cal.categories)} categories, "
        f"{len(cal.grids)} grids; placed {cal.placement['placed']:,}, not placed {cal.placement['not placed']:,}.",
        "# A log's created time is when a case became known: closed − created is resolved − discovered here;",
        "# the hidden time before discovery is in no log (report delay assumed exponential, mean "
        f"{doc['categories'][cal.categories[0].name]['report']['delay']['mean']}).",
    ]
    out += [f"# note: {n}" for n in cal.notes]
    out += ["# Rows of the log:"]
    for r in cal.rows.itertuples(index=False):
        out.append(f"#   {r[0]}: {int(r[1]):,} ({r[2]})")
    out += [
        "",
        _line(0, "name", doc["name"]),
        _line(0, "description", doc["description"]),
        _line(0, "horizon", doc["horizon"], "warm-up + at least a week measured"),
        _line(0, "warmup", doc["warmup"], "departments' queues and patrols settle"),
        _line(0, "seed", doc["seed"]),
        "territory:",
        _line(1, "grids_csv", grids_file.name, f"{len(cal.grids)} grids; households 1,000 per grid where the map gives none"),
        (_line(1, "rate_multipliers", terr["rate_multipliers"], "a category is called 'grid': inline") if rates_inline
         else _line(1, "rate_multipliers_csv", rates_file.name,
                    "grid × category rate multipliers, empirical-Bayes shrunk to each grid's share of all cases")),
        *([_line(1, "points_csv", points_file.name, "patrol points inside each grid's polygon, in tour order")]
          if points_file is not None else []),
        *([_line(1, "map_geojson", map_file.name, "the grids' polygons in these metres (property name), "
                 "to draw maps; not simulated")] if map_file is not None else []),
        _line(1, "points_per_grid", terr["points_per_grid"]),
        _line(1, "distance", terr["distance"]),
        "categories:",
    ]
    table = arr.table().set_index("category")
    for fit in cal.categories:
        cat = doc["categories"][fit.name]
        a = table.loc[fit.name]
        assert isinstance(a, pd.Series)  # one row: the categories are unique
        out.append(f"  {_key(fit.name)}:")
        out.append(_line(2, "rate", cat["rate"],
                         f"per 1,000 households per day: {int(a.cases):,} cases, {a.rate_per_day:.4g}/day "
                         f"[95% {a.rate_lower:.4g}, {a.rate_upper:.4g}]"
                         + (f"; pooled from {len(fit.pooled_from)} categories" if fit.pooled_from else "")))
        out.append(f"    weekly:  # hour-of-week profile of arrivals (mean 1): the log's discovery profile, weekday/"
                   f"weekend shrunk to the pooled one (prior strength {a.prior_time:.3g}), then corrected by "
                   "simulation for the time to discovery")
        for d in range(7):
            vals = ", ".join(f"{v:g}" for v in cat["weekly"][24 * d:24 * d + 24])
            out.append(f"      {'[' if d == 0 else ' '}{vals}{']' if d == 6 else ','}  # {DAYS[d]}")
        out.append(_line(2, "priority", cat["priority"]))
        detect_note = ("staff never found this category" if not fit.staff_cases else
                       "staff log what they pass" if cat["patrol_detect"] >= 1 else
                       "scaled down by simulation: residents report it all, staff log only some")
        out.append(_line(2, "patrol_detect", cat["patrol_detect"], detect_note))
        lo, hi = fit.staff_share_ci
        out.append(_line(2, "report", cat["report"],
                         f"staff found {fit.staff_cases:,} of {fit.cases:,} ({fit.staff_share:.1%} "
                         f"[95% {lo:.1%}, {hi:.1%}]); prob corrected by simulation"))
        if "department" in cat:
            out.append(_line(2, "department", cat["department"]))
            out.append(_line(2, "patrol_handles", cat["patrol_handles"],
                             "staff close what they find within hours" if cat["patrol_handles"] else ""))
        if "handling" in cat:
            out.append(_line(2, "handling", cat["handling"], fit.handling.describe() if fit.handling else ""))
    out.append("departments:")
    for fit in cal.categories:
        if fit.department is None:
            continue
        dept = fit.department
        dep = doc["departments"][fit.name]
        out.append(f"  {_key(fit.name)}:  # {fit.department_note or 'fitted by simulation'}")
        out.append(_line(2, "staff", dep["staff"], f"fitted: {dept.describe()}" if dept.evaluations else
                         "ample: too few cases to fit a capacity"))
        out.append(_line(2, "hours", dep["hours"], "read off the hours at which cases are closed"))
        out.append(_line(2, "service", dep["service"]))
    out.append("workers:")
    for k, v in doc["workers"].items():
        comment = "read off the hours at which staff find cases" if k == "shifts" else (
            "patrol cycle fits in half a shift" if k == "speed_kmh" else "")
        out.append(_line(1, k, v, comment))
    out.append(_line(0, "channels", doc["channels"]))
    out.append(_line(0, "policy", doc["policy"], "reports are routed at once to the department"))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path

