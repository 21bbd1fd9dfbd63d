"""The teaching notebooks (``notebooks/*.ipynb``) run from top to bottom, are committed clean,
and each has a rendered copy of its current source (``notebooks/rendered/``, with outputs).

Every notebook in ``notebooks/`` is picked up automatically. Each is executed with nbclient
in a fresh ``python3`` kernel with ``notebooks/`` as the working directory (as a student
opening it in Jupyter would), with a 120 s limit per cell; any error fails the test. The
notebook file itself is not modified.

The ``python3`` kernel comes with ipykernel (``pip install ".[test]"``). Should no kernel of
that name be registered (an unusual Jupyter set-up), one is written to a temporary
directory for the test, running the interpreter that runs the tests.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT_S = 120

nbformat = pytest.importorskip("nbformat", reason='needs the test extra: pip install ".[test]"')


def _ids(path: Path) -> str:
    return path.name


@pytest.fixture(scope="module")
def python3_kernel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The name of a kernel spec that runs this interpreter."""
    pytest.importorskip("nbclient", reason='needs the test extra: pip install ".[test]"')
    pytest.importorskip("ipykernel", reason='needs the test extra: pip install ".[test]"')
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL in KernelSpecManager().find_kernel_specs():
        yield KERNEL
        return
    from ipykernel.kernelspec import write_kernel_spec

    base = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(base / "kernels" / KERNEL, overrides={"argv": [
        sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(base))
        assert KERNEL in KernelSpecManager().find_kernel_specs()
        yield KERNEL


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2, f"expected the teaching notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    """No outputs, no execution counts (the diff of a notebook is then its source), and the
    ``python3`` kernel in the metadata."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL, \
        f"{path.name}: metadata.kernelspec.name should be {KERNEL!r}"
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: code cells {dirty} have outputs or execution counts; clear them "
                       f"(Jupyter: Edit > Clear All Outputs; or "
                       f"`jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}`)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, python3_kernel: str) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=python3_kernel,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    elapsed = time.perf_counter() - start
    print(f"\n{path.name}: {elapsed:.1f} s")
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors


def _render_module():  # notebooks/render.py, which writes the rendered copies
    import importlib.util

    spec = importlib.util.spec_from_file_location("govsim_render_notebooks", NOTEBOOK_DIR / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_has_a_rendered_copy_of_its_source(path: Path) -> None:
    """The rendered copy (what a reader of the repository and of the docs site sees) was made
    from the notebook as it is now, ran without error and has outputs; a notebook edited
    without rendering it again fails here: ``python3 notebooks/render.py NN``."""
    render = _render_module()
    copy = NOTEBOOK_DIR / "rendered" / path.name
    hint = f"render it: python3 notebooks/render.py {path.name[:2]}"
    assert copy.is_file(), f"{path.name}: no rendered copy in notebooks/rendered/; {hint}"
    source, rendered = nbformat.read(path, as_version=4), nbformat.read(copy, as_version=4)
    assert rendered.metadata.get("govsim", {}).get("source") == render.source_fingerprint(source), \
        f"{path.name}: the rendered copy is of an older version of the notebook; {hint}"
    assert render.source_fingerprint(rendered) == render.source_fingerprint(source)
    code = [cell for cell in rendered.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code), f"{copy.name}: a cell was not executed"
    assert any(cell.get("outputs") for cell in code)
    errors = [out for cell in code for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors, f"{copy.name}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
