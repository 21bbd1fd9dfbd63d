"""MkDocs hooks for the govsim site (mkdocs.yml: ``hooks:``).

* The notebooks (``notebooks/*.ipynb``) and ``CHANGELOG.md`` live outside ``docs/``; they
  are added to the site as if they were in it, so the navigation and links can point at
  them. A notebook's page shows its rendered copy (``notebooks/rendered/``, executed with
  its outputs by ``notebooks/render.py``; mkdocs-jupyter shows it as it is, not executing
  it again). The navigation's "Notebooks" section lists every notebook there is.
* A page of ``docs/`` may link to a file of the repository outside ``docs/``
  (``../benchmarks/README.md``), which renders on GitHub but is not part of the site: such a
  link is turned into a link to that file in the repository, when the file exists. A link
  to a file that does not exist is left alone, so that ``mkdocs build --strict`` fails on it.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
#: files outside docs/ that are pages of the site, by their path in the repository
EXTRA = ["CHANGELOG.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))]
_RENDERED = tempfile.TemporaryDirectory(prefix="govsim-site-")  # removed when the build ends
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")


def on_config(config: Any) -> Any:
    """The navigation's "Notebooks" section lists every notebook, a new one included."""
    notebooks = [p for p in EXTRA if p.endswith(".ipynb")]

    def fill(items: Any) -> None:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                for key, value in item.items():
                    if key == "Notebooks":
                        item[key] = list(notebooks)
                    else:
                        fill(value)

    fill(config["nav"])
    return config


@event_priority(100)  # before mkdocs-jupyter, which takes the notebooks among the files
def on_files(files: Files, config: Any) -> Files:
    for path in EXTRA:
        src_dir = ROOT
        rendered = ROOT / "notebooks" / "rendered" / Path(path).name
        if path.endswith(".ipynb") and rendered.is_file():  # the copy with outputs, at the same address
            # (mkdocs-jupyter rebuilds the File from src_dir and path, so the copy is linked
            # into a folder of its own as notebooks/NAME)
            src_dir = Path(_RENDERED.name)
            (src_dir / "notebooks").mkdir(exist_ok=True)
            link = src_dir / path
            if not link.exists():
                link.symlink_to(rendered)
        files.append(File(path, src_dir=str(src_dir), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if page.file.src_uri in EXTRA:
        return markdown
    here = posixpath.dirname(page.file.src_uri)
    blob = str(config["repo_url"]).rstrip("/") + "/blob/main/"

    def fix(match: re.Match[str]) -> str:
        target = match.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
            return match.group(0)  # a URL or an absolute link
        inside = posixpath.normpath(posixpath.join(here, target))
        if not inside.startswith("../"):
            return match.group(0)  # a page of docs/: MkDocs checks it
        in_repo = posixpath.normpath(posixpath.join("docs", here, target))
        if in_repo in EXTRA:
            new = posixpath.relpath(in_repo, here or ".")
        elif (ROOT / in_repo).exists():
            new = blob + in_repo
        else:
            return match.group(0)  # missing: MkDocs reports it
        return f"{match.group(1)}{new}{match.group(3) or ''}{match.group(4)}"

    return LINK.sub(fix, markdown)


ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const|ref):<code>(~?)([^<]*)</code>")


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """Docstrings are written with reST roles (:func:`run`); in the API reference they
    render as code, without the role (``~a.b.C`` as ``C``), and ``e.g.::`` as ``e.g.:``."""
    if not page.file.src_uri.startswith("api/"):
        return html
    html = ROLE.sub(lambda m: f"<code>{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}</code>", html)
    return html.replace("::</p>", ":</p>")
