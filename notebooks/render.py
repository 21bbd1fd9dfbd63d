"""Write the rendered copies of the teaching notebooks, ``notebooks/rendered/*.ipynb``.

Each notebook is executed from top to bottom in a fresh ``python3`` kernel, in
``notebooks/`` as a student would run it, and written with its outputs (tables, figures,
printed numbers) to ``notebooks/rendered/``, so that someone browsing the repository, and
the documentation site, reads the outputs without running anything. The sources
(``notebooks/*.ipynb``) stay clean, so that their diffs are their code.

    python3 notebooks/render.py          # every notebook (~5 min on 2 cores)
    python3 notebooks/render.py 01 05    # those whose names start so

A rendered copy records the fingerprint of its source's cells (``metadata.govsim.source``);
``tests/test_notebooks.py`` checks that every copy is of the current source, so a notebook
edited without rendering it again fails the tests.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
RENDERED = HERE / "rendered"
CELL_TIMEOUT_S = 600


def source_fingerprint(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the cells' types and sources: what a rendered copy was made from."""
    cells = [(cell.cell_type, cell.source) for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


def render(path: Path) -> Path:
    """Execute the notebook ``path`` and write its rendered copy; the copy's path."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    fingerprint = source_fingerprint(nb)
    NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nb.metadata["govsim"] = {"source": fingerprint, "rendered_from": path.name}
    out = RENDERED / path.name
    RENDERED.mkdir(exist_ok=True)
    nbformat.write(nb, out)
    return out


def main(prefixes: list[str]) -> int:
    paths = sorted(p for p in HERE.glob("*.ipynb") if not prefixes or p.name.startswith(tuple(prefixes)))
    if not paths:
        print(f"no notebook in {HERE} starts with {', '.join(prefixes)}", file=sys.stderr)
        return 2
    for path in paths:
        start = time.perf_counter()
        out = render(path)
        print(f"{out.relative_to(HERE.parent)}: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
