"""Grids of a calibrated district: from a GeoJSON map, square cells, or a log's areas."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

shapely = pytest.importorskip("shapely")
pyproj = pytest.importorskip("pyproj")

from govsim.calibration import grids as gmod  # noqa: E402
from govsim.calibration.errors import CalibrationError  # noqa: E402
from govsim.calibration.grids import (  # noqa: E402
    GridMap,
    grids_from_areas,
    grids_from_cells,
    grids_from_geojson,
    parse_length,
)

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "grids_small.geojson"
LA = Path(__file__).resolve().parents[2] / "shared/data/service-requests/la311_2017-12-27_2018-01-04.csv"
GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def small() -> GridMap:
    return grids_from_geojson(SMALL)


@pytest.fixture(scope="module")
def small_lonlat() -> list:
    doc = json.loads(SMALL.read_text(encoding="utf-8"))
    return [shapely.geometry.shape(f["geometry"]) for f in doc["features"]]


@pytest.fixture(scope="module")
def la() -> pd.DataFrame:
    if not LA.is_file():
        pytest.skip(f"LA case log not found at {LA}")
    return pd.read_csv(LA, usecols=["area_nc", "lat", "lon"])


def write(tmp_path: Path, doc: object, name: str = "map.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def square(lon0: float, lat0: float, d: float = 0.01) -> dict:
    ring = [[lon0, lat0], [lon0 + d, lat0], [lon0 + d, lat0 + d], [lon0, lat0 + d], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def fc(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def feat(geometry: dict | None, **props: object) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


# --------------------------------------------------------------------------------------
# GeoJSON map
# --------------------------------------------------------------------------------------
def test_geojson_reads_properties(small: GridMap) -> None:
    g = small.grids
    assert small.kind == "map"
    assert list(g.columns) == ["name", "x_m", "y_m", "edge_m", "area_m2", "households", "community", "street"]
    assert g["name"].tolist() == ["A01", "A02", "B01", "C01"]
    assert g["community"].tolist() == ["Jingshan", "Jingshan", "Huashi", "Huashi"]
    assert g["street"].tolist() == ["Jingshan Street", "Jingshan Street", "Chaoyangmen Street", "Chaoyangmen Street"]
    hh = g["households"].to_numpy()
    assert hh[0] == 1200 and hh[1] == 800 and np.isnan(hh[2]) and hh[3] == 300  # "800" read as a number
    assert small.crs.startswith("+proj=aeqd") and "+units=m" in small.crs
    assert len(small.polygons) == 4
    assert small.polygons[2].geom_type == "MultiPolygon"


def test_geojson_areas_match_geodesic(small: GridMap, small_lonlat: list) -> None:
    for i, geom in enumerate(small_lonlat):
        geodesic = abs(GEOD.geometry_area_perimeter(geom)[0])
        assert small.grids["area_m2"].iloc[i] == pytest.approx(geodesic, rel=1e-3)
        assert small.polygons[i].area == pytest.approx(geodesic, rel=1e-3)
    # The plain 0.01° x 0.01° square at 39.90-39.91° N, computed by hand from the
    # WGS84 ellipsoid: radii of curvature at the middle latitude.
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = np.radians(39.905)
    w = np.sqrt(1 - e2 * np.sin(phi) ** 2)
    meridional = a * (1 - e2) / w**3
    prime_vertical = a / w
    hand = (np.radians(0.01) * meridional) * (np.radians(0.01) * prime_vertical * np.cos(phi))
    assert small.grids["area_m2"].iloc[0] == pytest.approx(hand, rel=0.01)
    assert small.grids["edge_m"].to_numpy() == pytest.approx(np.sqrt(small.grids["area_m2"].to_numpy()))
    # the hole is not counted: A02 is the A01 square minus a 0.004° x 0.004° hole
    assert small.grids["area_m2"].iloc[1] == pytest.approx(small.grids["area_m2"].iloc[0] * (1 - 0.16), rel=1e-3)


def test_geojson_centre_is_inside(small: GridMap) -> None:
    for i, poly in enumerate(small.polygons):
        x, y = small.grids.loc[i, ["x_m", "y_m"]]
        assert poly.contains(shapely.Point(x, y)), small.grids["name"].iloc[i]
    # C01 is a U whose centroid falls in the notch: the centre must not be the centroid
    assert not small.polygons[3].contains(small.polygons[3].centroid)


def test_geojson_assign(small: GridMap) -> None:
    lon = np.array([116.405, 116.411, 116.402, 116.412, 116.4215, 116.4285,  # inside A01, A02, B01 x2, C01 x2
                    116.415, 116.425, 116.3, 116.408, np.nan, 116.41, 500.0])
    lat = np.array([39.905, 39.905, 39.914, 39.914, 39.905, 39.909,
                    39.905, 39.908, 39.905, 39.911, 39.905, np.nan, 39.9])
    got = small.assign(lon, lat)
    assert got.dtype == np.int64
    # hole of A02, notch of the U, far west, the gap between rows, NaN lon, NaN lat, lon out of range
    assert got.tolist() == [0, 1, 2, 2, 3, 3, -1, -1, -1, -1, -1, -1, -1]
    # a point on the edge shared by A01 and A02 belongs to one of them
    assert small.assign(np.array([116.41]), np.array([39.905]))[0] in (0, 1)
    # the area argument is ignored for a map
    assert small.assign(lon, lat, area=np.array(["x"] * len(lon))).tolist() == got.tolist()


def test_geojson_patrol_points(small: GridMap) -> None:
    for per in (1, 7, 16, 40):
        pts = small.patrol_points(per, np.random.default_rng(3))
        assert list(pts.columns) == ["grid", "x_m", "y_m"]
        assert np.bincount(pts["grid"], minlength=4).tolist() == [per] * 4
        assert pts["grid"].is_monotonic_increasing
        for g, poly in enumerate(small.polygons):
            sel = pts[pts["grid"] == g]
            assert shapely.contains_xy(poly, sel["x_m"].to_numpy(), sel["y_m"].to_numpy()).all()
        again = small.patrol_points(per, np.random.default_rng(3))
        pd.testing.assert_frame_equal(pts, again)


def test_patrol_tour_is_short(small: GridMap) -> None:
    # On the plain square the serpentine tour is much shorter than a random order.
    pts = small.patrol_points(25, np.random.default_rng(0))
    sel = pts[pts["grid"] == 0][["x_m", "y_m"]].to_numpy()
    tour = np.abs(np.diff(sel, axis=0)).sum()
    shuffled = sel[np.random.default_rng(1).permutation(len(sel))]
    assert tour < 0.6 * np.abs(np.diff(shuffled, axis=0)).sum()


def test_geojson_guesses_chinese_fields_and_feature_id(tmp_path: Path) -> None:
    path = write(tmp_path, fc(
        feat(square(116.40, 39.90), 网格名称="一网格", 社区="景山社区", 街道="景山街道", 户数=450),
        feat(square(116.41, 39.90), 网格名称="二网格", 社区="景山社区", 街道="景山街道", 户数="1,050"),
    ))
    g = grids_from_geojson(path).grids
    assert g["name"].tolist() == ["一网格", "二网格"]
    assert g["community"].tolist() == ["景山社区"] * 2
    assert g["street"].tolist() == ["景山街道"] * 2
    assert g["households"].tolist() == [450.0, 1050.0]
    # no name property: the feature's own id, else g<index>; defaults for community/street
    doc = fc(feat(square(116.40, 39.90)), feat(square(116.41, 39.90)))
    doc["features"][1]["id"] = "north"
    g = grids_from_geojson(write(tmp_path, doc, "b.geojson")).grids
    assert g["name"].tolist() == ["g0", "north"]
    assert g["community"].tolist() == ["g0", "north"]
    assert g["street"].tolist() == ["district"] * 2
    assert g["households"].isna().all()


def test_geojson_named_fields(tmp_path: Path) -> None:
    path = write(tmp_path, fc(
        feat(square(116.40, 39.90), code="X1", id="ignored", sq="C1", jd="S1", hu=10),
        feat(square(116.41, 39.90), code="X2", id="ignored", sq="C1", jd="S1", hu=20),
    ))
    g = grids_from_geojson(path, id_field="code", community_field="sq", street_field="jd",
                           households_field="hu").grids
    assert g["name"].tolist() == ["X1", "X2"]
    assert g["community"].tolist() == ["C1", "C1"]
    assert g["households"].tolist() == [10.0, 20.0]


def test_geojson_declared_crs_is_transformed(tmp_path: Path, small: GridMap) -> None:
    doc = json.loads(SMALL.read_text(encoding="utf-8"))
    to_merc = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    for f in doc["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        geom = shapely.transform(geom, lambda c: np.column_stack(to_merc.transform(c[:, 0], c[:, 1])))
        f["geometry"] = shapely.geometry.mapping(geom)
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    g = grids_from_geojson(write(tmp_path, doc))
    assert g.grids["area_m2"].to_numpy() == pytest.approx(small.grids["area_m2"].to_numpy(), rel=1e-6)
    # a declared WGS84 is fine as it is
    doc = json.loads(SMALL.read_text(encoding="utf-8"))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(grids_from_geojson(write(tmp_path, doc, "b.geojson"))) == 4


def test_geojson_repairs_invalid_polygon(tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.91], [116.41, 39.90],
                                                   [116.40, 39.91], [116.40, 39.90]]]}
    g = grids_from_geojson(write(tmp_path, fc(feat(bowtie, id="bow"))))
    assert g.polygons[0].is_valid and g.polygons[0].area > 0
    assert g.polygons[0].contains(shapely.Point(g.grids["x_m"].iloc[0], g.grids["y_m"].iloc[0]))


# --------------------------------------------------------------------------------------
# bad maps
# --------------------------------------------------------------------------------------
def bad(path: Path, **kw: object) -> CalibrationError:
    with pytest.raises(CalibrationError) as info:
        grids_from_geojson(path, **kw)
    err = info.value
    assert err.source == str(path)
    assert str(err).startswith(str(path))
    return err


@pytest.mark.parametrize("doc, where, words", [
    (fc(), "features", "empty"),
    ({"type": "Feature", "geometry": square(116.4, 39.9)}, "type", "FeatureCollection"),
    ([1, 2], "type", "FeatureCollection"),
    ({"type": "FeatureCollection", "features": {}}, "features", "list"),
    (fc(feat(square(116.4, 39.9), id="a"), feat({"type": "Point", "coordinates": [116.4, 39.9]}, id="b")),
     "feature 1", "Point"),
    (fc(feat(square(116.4, 39.9), id="a"), feat(None, id="b")), "feature 1", "no geometry"),
    (fc(feat(square(116.4, 39.9), id="a"), feat(square(116.41, 39.9), id="a")), "feature 1", "duplicate"),
    (fc(feat(square(116.4, 39.9), households="many")), "feature 0, property 'households'", "number"),
    (fc(feat(square(116.4, 39.9), households=-3)), "feature 0, property 'households'", ">= 0"),
    (fc(feat(square(116.4, 39.9), community="c"), feat(square(116.41, 39.9), community=None)),
     "feature 1, property 'community'", "missing"),
    (fc(feat({"type": "Polygon", "coordinates": [[[116.4, 39.9], [116.41, 39.9], [116.4, 39.9], [116.4, 39.9]]]})),
     "feature 0", "no area"),
    (fc(feat({"type": "Polygon", "coordinates": [[[1], [2]]]})), "feature 0", "unreadable"),
    (fc("not a feature"), "feature 0", "Feature"),
    (fc(feat(square(450000.0, 4400000.0, 500.0))), "coordinates", "declare its crs"),
    ({**fc(feat(square(116.4, 39.9))), "crs": {"type": "name", "properties": {"name": "EPSG:99999999"}}},
     "crs 'EPSG:99999999'", "unknown"),
])
def test_bad_geojson(tmp_path: Path, doc: object, where: str, words: str) -> None:
    err = bad(write(tmp_path, doc))
    assert any(p.startswith(where) and words in p for p in err.problems), err.problems


def test_bad_geojson_lists_every_problem(tmp_path: Path) -> None:
    err = bad(write(tmp_path, fc(
        feat(square(116.4, 39.9), id="a", households="x"),
        feat({"type": "LineString", "coordinates": [[116.4, 39.9], [116.5, 39.9]]}, id="b"),
        feat(square(116.42, 39.9), id="a"),
    )))
    assert len(err.problems) == 3
    assert [p.split(":")[0].split(",")[0] for p in err.problems] == ["feature 0", "feature 1", "feature 2"]


def test_bad_geojson_named_field_absent(tmp_path: Path) -> None:
    err = bad(write(tmp_path, fc(feat(square(116.4, 39.9), id="a", hh=3))), households_field="户数")
    assert err.problems[0].startswith("property '户数'") and "hh" in err.problems[0]
    path = write(tmp_path, fc(feat(square(116.4, 39.9), code="a"), feat(square(116.41, 39.9))), "b.geojson")
    err = bad(path, id_field="code")
    assert err.problems == ["feature 1, property 'code': missing; every grid needs a name"]


def test_bad_geojson_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "file not found" in str(bad(tmp_path / "nope.geojson"))
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [,]}', encoding="utf-8")
    assert bad(path).problems[0].startswith("line 2, column")
    path = tmp_path / "latin1.geojson"
    path.write_bytes('{"name": "é"}'.encode("latin-1"))
    assert "UTF-8" in bad(path).problems[0]
    monkeypatch.setattr(gmod, "MAX_GEOJSON_BYTES", 100)
    assert "limit" in bad(SMALL).problems[0]


def test_missing_geo_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shapely", None)
    with pytest.raises(CalibrationError) as info:
        grids_from_geojson(SMALL)
    assert 'pip install "govsim[geo]"' in str(info.value)
    assert info.value.source == str(SMALL)
    with pytest.raises(CalibrationError, match="govsim\\[geo\\]"):
        grids_from_cells(np.array([116.4]), np.array([39.9]), 500)


# --------------------------------------------------------------------------------------
# cells
# --------------------------------------------------------------------------------------
CELL_CRS = "+proj=aeqd +lat_0=39.9 +lon_0=116.4 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
# metric offsets from (116.4 E, 39.9 N); the bounding box is symmetric, so it is centred there.
CELL_XY = np.array([
    (-1000.5, -1000.5), (1000.5, 1000.5), (-1000.5, 1000.5), (1000.5, -1000.5),
    (0.0, 0.0), (10.0, 20.0), (-502.0, 0.0), (-500.0, 0.0),
])


def cell_lonlat(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inv = pyproj.Transformer.from_crs(CELL_CRS, "EPSG:4326", always_xy=True)
    return inv.transform(xy[:, 0], xy[:, 1])


def test_cells_by_hand() -> None:
    lon, lat = cell_lonlat(CELL_XY)
    gm = grids_from_cells(lon, lat, 500)
    assert gm.kind == "cells" and gm.crs == CELL_CRS
    x, y = gm.to_metric(lon, lat)
    assert np.column_stack([x, y]) == pytest.approx(CELL_XY, abs=1e-6)
    # x0 = y0 = floor(-1000.5) = -1001; col = floor((x + 1001) / 500)
    assert gm.cell_origin == (-1001.0, -1001.0, 500.0)
    names = gm.grids["name"].tolist()
    assert names == ["r0c0", "r0c4", "r2c0", "r2c1", "r2c2", "r4c0", "r4c4"]
    expected = ["r0c0", "r4c4", "r4c0", "r0c4", "r2c2", "r2c2", "r2c0", "r2c1"]
    assert [names[i] for i in gm.assign(lon, lat)] == expected
    row = gm.grids.set_index("name").loc["r2c2"]
    assert (row["x_m"], row["y_m"]) == pytest.approx((249.0, 249.0))
    assert row["edge_m"] == 500 and row["area_m2"] == 250_000
    assert row["community"] == "c1_1" and row["street"] == "s0_0"
    assert gm.grids.set_index("name").loc["r0c4", "community"] == "c0_2"
    assert gm.grids["households"].isna().all()
    for poly in gm.polygons:
        x0, y0, x1, y1 = poly.bounds
        assert (x1 - x0, y1 - y0) == pytest.approx((500.0, 500.0))
    # an empty cell of the lattice, points off the lattice, missing coordinates
    lon2, lat2 = cell_lonlat(np.array([(0.0, -600.0), (-1200.0, 0.0), (1600.0, 0.0)]))
    assert gm.assign(np.r_[lon2, np.nan], np.r_[lat2, 39.9]).tolist() == [-1, -1, -1, -1]


def test_cells_min_cases_and_size_strings() -> None:
    lon, lat = cell_lonlat(CELL_XY)
    gm = grids_from_cells(lon, lat, "0.5km", min_cases=2)
    assert gm.grids["name"].tolist() == ["r2c2"]
    assert gm.assign(lon, lat).tolist() == [-1, -1, -1, -1, 0, 0, -1, -1]
    assert grids_from_cells(lon, lat, "500 m").grids["name"].tolist() == \
        grids_from_cells(lon, lat, 500.0).grids["name"].tolist()


def test_cells_patrol_points_inside() -> None:
    lon, lat = cell_lonlat(CELL_XY)
    gm = grids_from_cells(lon, lat, 500)
    pts = gm.patrol_points(9, np.random.default_rng(0))
    assert len(pts) == 9 * len(gm)
    for g, poly in enumerate(gm.polygons):
        sel = pts[pts["grid"] == g]
        assert shapely.contains_xy(poly, sel["x_m"].to_numpy(), sel["y_m"].to_numpy()).all()


@pytest.mark.parametrize("text, metres", [
    ("500m", 500.0), ("500 m", 500.0), ("1km", 1000.0), ("1.5 KM", 1500.0), ("250", 250.0),
    (300, 300.0), (0.25, 0.25), ("500米", 500.0), ("1公里", 1000.0), ("2千米", 2000.0), ("1e3m", 1000.0),
])
def test_parse_length(text: object, metres: float) -> None:
    assert parse_length(text) == metres


@pytest.mark.parametrize("text", ["", "km", "5 parsecs", "-3m", "0", "1,000m", "nan", True, float("inf"), 0])
def test_parse_length_bad(text: object) -> None:
    with pytest.raises(CalibrationError) as info:
        parse_length(text)
    assert info.value.problems[0].startswith("--cell")


def test_bad_cells() -> None:
    lon, lat = cell_lonlat(CELL_XY)
    with pytest.raises(CalibrationError, match=r"^--cell 1 m: too small.*larger size"):
        grids_from_cells(lon, lat, 1)
    with pytest.raises(CalibrationError, match="^--cell 'big'"):
        grids_from_cells(lon, lat, "big")
    with pytest.raises(CalibrationError, match="^lat/lon: no case has coordinates"):
        grids_from_cells(np.array([np.nan, 200.0]), np.array([1.0, 1.0]), 500)
    with pytest.raises(CalibrationError, match="^min_cases 9: no 500 m cell"):
        grids_from_cells(lon, lat, 500, min_cases=9)
    with pytest.raises(CalibrationError, match="^min_cases 0"):
        grids_from_cells(lon, lat, 500, min_cases=0)
    with pytest.raises(CalibrationError, match="^lat: 2 values, expected 8"):
        grids_from_cells(lon, lat[:2], 500)


# --------------------------------------------------------------------------------------
# areas
# --------------------------------------------------------------------------------------
def test_areas_small() -> None:
    # two areas: 'a' has cases at three points (one with no coordinates), 'b' one point
    area = np.array(["a", "a", "a", " b ", None, np.nan, "a", "zz", None])
    lon, lat = cell_lonlat(np.array([(0.0, 0.0), (1000.0, 0.0), (0.0, 1000.0), (5000.0, 5000.0),
                                     (4900.0, 4900.0), (0.0, 0.0), (0.0, 0.0), (100.0, 100.0), (0.0, 0.0)]))
    lon[6] = lat[6] = np.nan  # 'a' without coordinates
    lon[8] = lat[8] = np.nan  # neither area nor coordinates
    built = area.copy()
    built[7] = None  # 'zz' is not an area of the map
    gm = grids_from_areas(built, lon, lat)
    assert gm.kind == "areas" and gm.polygons is None
    g = gm.grids
    assert g["name"].tolist() == ["a", "b"]
    assert g["area_m2"].tolist() == pytest.approx([500_000.0, 250.0**2], rel=1e-6)
    assert g["edge_m"].to_numpy() == pytest.approx(np.sqrt(g["area_m2"].to_numpy()))
    assert g["community"].tolist() == ["a", "b"] and g["street"].tolist() == ["district"] * 2
    # centre of 'a': the median (0, 0) is a case; of 'b' its only case
    x, y = gm.to_metric(lon, lat)
    assert (g["x_m"].iloc[0], g["y_m"].iloc[0]) == pytest.approx((x[0], y[0]))
    assert (g["x_m"].iloc[1], g["y_m"].iloc[1]) == pytest.approx((x[3], y[3]))
    # known areas by name (even without coordinates), unknown ones ('zz', missing) by nearest centre
    assert gm.assign(lon, lat, area).tolist() == [0, 0, 0, 1, 1, 0, 0, 0, -1]
    assert gm.assign(lon, lat).tolist() == [0, 0, 0, 1, 1, 0, -1, 0, -1]
    pts = gm.patrol_points(4, np.random.default_rng(0))
    assert len(pts) == 8
    assert np.abs(pts["x_m"].to_numpy()[:4] - g["x_m"].iloc[0]).max() < g["edge_m"].iloc[0] / 2


def test_areas_medoid_snaps_to_a_case() -> None:
    # the median point (0, 0) is not a case: the case nearest to it is the centre
    xy = np.array([(-300.0, 10.0), (0.0, 300.0), (300.0, -10.0), (0.0, -300.0), (1.0, 5.0)])
    lon, lat = cell_lonlat(xy)
    gm = grids_from_areas(np.array(["a"] * 5), lon, lat)
    x, y = gm.to_metric(lon, lat)
    assert (gm.grids["x_m"].iloc[0], gm.grids["y_m"].iloc[0]) == pytest.approx((x[4], y[4]))


def test_bad_areas() -> None:
    lon, lat = cell_lonlat(CELL_XY[:3])
    with pytest.raises(CalibrationError, match="^area: no case names an area"):
        grids_from_areas(np.array([None, np.nan, " "], dtype=object), lon, lat)
    with pytest.raises(CalibrationError, match="^area: 1 area\\(s\\) have no case with coordinates.*'c'"):
        grids_from_areas(np.array(["a", "b", "c"]), np.r_[lon[:2], np.nan], lat)
    with pytest.raises(CalibrationError, match="^lon: 2 values, expected 3"):
        grids_from_areas(np.array(["a", "b", "c"]), lon[:2], lat)
    gm = grids_from_areas(np.array(["a", "b", "c"]), lon, lat)
    with pytest.raises(CalibrationError, match="^area: 2 values, expected 3"):
        gm.assign(lon, lat, np.array(["a", "b"]))


# --------------------------------------------------------------------------------------
# the real LA log
# --------------------------------------------------------------------------------------
def test_la_areas(la: pd.DataFrame) -> None:
    area, lon, lat = la["area_nc"].to_numpy(object), la["lon"].to_numpy(float), la["lat"].to_numpy(float)
    gm = grids_from_areas(area, lon, lat)
    names = sorted(la["area_nc"].dropna().str.strip().unique())
    assert len(names) == 97 and gm.grids["name"].tolist() == names
    got = gm.assign(lon, lat, area)
    has_area = la["area_nc"].notna().to_numpy()
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    assert (got[has_area] >= 0).all()
    assert (gm.grids["name"].to_numpy()[got[has_area]] == la["area_nc"].to_numpy()[has_area]).all()
    assert (got[~has_area & has_xy] >= 0).all()
    assert (got[~has_area & ~has_xy] == -1).all()
    assert (gm.grids["area_m2"] >= 250.0**2).all()
    # every centre is one of its own cases
    x, y = gm.to_metric(lon, lat)
    for i in (0, 40, 96):
        mine = has_xy & (la["area_nc"] == names[i]).to_numpy()
        assert np.hypot(x[mine] - gm.grids["x_m"].iloc[i], y[mine] - gm.grids["y_m"].iloc[i]).min() < 1e-6


def test_la_cells_cover_every_located_case(la: pd.DataFrame) -> None:
    lon, lat = la["lon"].to_numpy(float), la["lat"].to_numpy(float)
    gm = grids_from_cells(lon, lat, "2km")
    got = gm.assign(lon, lat)
    has_xy = np.isfinite(lon) & np.isfinite(lat)
    assert (got[has_xy] >= 0).all() and (got[~has_xy] == -1).all()
    assert np.bincount(got[has_xy], minlength=len(gm)).min() >= 1
    # each case lies in the polygon of its cell
    x, y = gm.to_metric(lon, lat)
    sample = np.flatnonzero(has_xy)[::50]
    polys = np.asarray(gm.polygons, dtype=object)[got[sample]]
    assert shapely.intersects_xy(polys, x[sample], y[sample]).all()


def test_la_projection_distances(la: pd.DataFrame) -> None:
    lon, lat = la["lon"].to_numpy(float), la["lat"].to_numpy(float)
    gm = grids_from_cells(lon, lat, "2km")
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(lon), 2000), rng.integers(0, len(lon), 2000)
    # plus the two ends of the data, ~50 km apart
    i = np.r_[i, np.argmin(lon), np.argmin(lat)]
    j = np.r_[j, np.argmax(lon), np.argmax(lat)]
    x, y = gm.to_metric(lon, lat)
    proj = np.hypot(x[i] - x[j], y[i] - y[j])
    _, _, geod = GEOD.inv(lon[i], lat[i], lon[j], lat[j])
    far = geod > 1000
    assert geod.max() > 45_000
    assert np.abs(proj[far] / geod[far] - 1).max() < 0.005
