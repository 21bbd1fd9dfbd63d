"""Figures checked as pictures: each figure of a small fixed case is drawn and compared with a
stored reference image (``tests/data/images/``) by matplotlib's own image comparison (the RMS
difference of the pixels, as pytest-mpl does), so a change in how a figure *looks* — a lost
legend, an axis gone to another scale, Chinese text drawn as empty boxes — fails here even
when every number under it is right.

The Chinese figures need a CJK font (``.ci/run`` installs Debian's ``fonts-noto-cjk``); where
there is none they are skipped with that reason (the figures then fall back to English, which
``tests/test_plots.py`` checks). The references were drawn with the matplotlib version in
``tests/data/images/VERSIONS.json``; a different version may move text by a pixel, and a
failure then says so.

A deliberate change of a figure: look at the new pictures, then store them as references with

    python3 tests/test_figure_images.py --update
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

import govsim  # noqa: E402
from govsim import plots  # noqa: E402
from govsim.plots.labels import cjk_font  # noqa: E402
from govsim.plots.maps import coverage_difference, shared_limits  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "tests" / "data" / "images"
VERSIONS = REFERENCES / "VERSIONS.json"
#: the largest RMS difference of pixel values (0-255) still taken as the same picture: text
#: antialiasing differs by less than 1 between runs of one version; a moved label, a changed
#: colour or a missing legend differs by far more (each test's figure was checked to fail on such
#: a change)
TOLERANCE = 2.0
SEED, HORIZON = 5, "2d"
DPI = 60  # small pictures: the references stay small, and what is compared is the layout


@cache
def _runs() -> dict[str, govsim.Result]:
    over = {"horizon": HORIZON}
    return {name: govsim.run(str(ROOT / "scenarios" / f"{name}.yaml"), seed=SEED, overrides=over)
            for name in ("traditional_patrol", "smart_dispatch")}


@cache
def _comparison() -> govsim.Comparison:
    return govsim.compare([str(ROOT / "scenarios" / "traditional_patrol.yaml"),
                           str(ROOT / "scenarios" / "smart_dispatch.yaml")], n=3, seed=SEED,
                          overrides={"horizon": "1d"}, executor="sequential", progress=False)


def _figures(lang: str) -> dict[str, Callable[[], Figure]]:
    runs = _runs()
    trad, smart = runs["traditional_patrol"], runs["smart_dispatch"]
    limits = shared_limits([trad, smart], "discovery_delay")
    return {
        "time_decomposition": lambda: plots.time_decomposition(runs, lang=lang),
        "resolution_times": lambda: plots.resolution_times(runs, lang=lang),
        "backlog": lambda: plots.backlog(runs, lang=lang),
        "utilisation": lambda: plots.utilisation(runs, lang=lang),
        "coverage_map": lambda: plots.coverage_map(smart, "discovery_delay", lang=lang, limits=limits),
        "coverage_difference": lambda: coverage_difference(trad, smart, "discovery_delay", lang=lang),
        "forest": lambda: plots.forest(_comparison(), lang=lang),
    }


CASES = [(name, lang) for lang in ("en", "zh") for name in
         ("time_decomposition", "resolution_times", "backlog", "utilisation", "coverage_map",
          "coverage_difference", "forest")]


def _draw(name: str, lang: str, out: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no glyph missing, no fallback to English
        fig = _figures(lang)[name]()
    path = out / f"{name}_{lang}.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


@pytest.mark.parametrize(("name", "lang"), CASES, ids=[f"{n}-{lang}" for n, lang in CASES])
def test_figure_looks_as_its_reference(name: str, lang: str, tmp_path: Path) -> None:
    if lang == "zh" and cjk_font() is None:
        pytest.skip("no CJK font for matplotlib (Debian: apt-get install fonts-noto-cjk)")
    reference = REFERENCES / f"{name}_{lang}.png"
    assert reference.is_file(), f"no reference {reference.name}: python3 tests/test_figure_images.py --update"
    actual = _draw(name, lang, tmp_path)
    failure = compare_images(str(reference), str(actual), tol=TOLERANCE)
    if failure:
        recorded = json.loads(VERSIONS.read_text())["matplotlib"]
        note = ("" if recorded == matplotlib.__version__ else
                f" (the references were drawn with matplotlib {recorded}, this is {matplotlib.__version__})")
        pytest.fail(f"{name} ({lang}) does not look as its reference{note}: {failure}; if the change is "
                    f"meant, look at the pictures and run python3 tests/test_figure_images.py --update")


def test_a_changed_figure_is_caught(tmp_path: Path) -> None:
    """The comparison can fail: the time decomposition with its legend moved is another picture."""
    runs = _runs()
    fig = plots.time_decomposition(runs)
    fig.axes[0].legend(loc="upper left")
    path = tmp_path / "moved.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    assert compare_images(str(REFERENCES / "time_decomposition_en.png"), str(path), tol=TOLERANCE)


def update() -> None:
    """Draw every figure and store it as the reference (both languages: needs a CJK font)."""
    if cjk_font() is None:
        sys.exit("a CJK font is needed to draw the Chinese references (apt-get install fonts-noto-cjk)")
    REFERENCES.mkdir(parents=True, exist_ok=True)
    for name, lang in CASES:
        print(_draw(name, lang, REFERENCES).relative_to(ROOT))
    VERSIONS.write_text(json.dumps({"matplotlib": matplotlib.__version__, "font": cjk_font()}, indent=1) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(__doc__)
    update()
