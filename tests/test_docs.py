"""The manual and the files users get (issue 12, item 10).

- The HTML build has no broken local link (it had ``_modules/index.html`` ->
  ``builtins.html``): Sphinx builds the manual into a temporary directory
  and every relative ``href`` of every page must name a file that exists.
- The first pages (index, installation) show ``demo`` and ``simulate``.
- README, CHANGES, the manual and the examples cite no file a user does not
  have (the project's internal notes: ``API.md``, ``RECORDINGS.md``,
  ``shared/``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parent.parent
INTERNAL_NOTES = re.compile(r"API\.md|RECORDINGS\.md|STYLE\.md|shared/")


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The manual built as HTML by sphinx-build in its own process (skipped without Sphinx)."""
    pytest.importorskip("sphinx", reason="needs Sphinx (pip install '.[doc]')")
    output = tmp_path_factory.mktemp("html")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-W", "-b", "html", str(REPO / "doc"), str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output


def test_every_local_link_of_the_html_manual_resolves(html: Path) -> None:
    broken: list[str] = []
    pages = sorted(html.rglob("*.html"))
    assert (html / "_modules" / "index.html") in pages
    for page in pages:
        for target in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or not parts.path:
                continue  # another site, or a place on the same page
            if not (page.parent / unquote(parts.path)).exists():
                broken.append(f"{page.relative_to(html)} -> {target}")
    assert broken == []


def test_the_modules_index_lists_our_modules_only(html: Path) -> None:
    listed = re.findall(
        r'<li><a href="(\w+)\.html">', (html / "_modules" / "index.html").read_text(encoding="utf-8")
    )
    assert listed == [
        "dummy_serial",
        "minimalmodbus",
        "minimalmodbus_registermap",
        "minimalmodbus_replay",
        "minimalmodbus_simulator",
    ]


@pytest.mark.parametrize("page", ["index.rst", "readme.rst"])
def test_the_first_pages_show_demo_and_simulate(page: str) -> None:
    text = (REPO / "doc" / page).read_text(encoding="utf-8")
    assert "python -m minimalmodbus demo" in text
    assert "python -m minimalmodbus simulate" in text


def test_no_shipped_text_cites_a_file_users_do_not_have() -> None:
    files = [
        REPO / "README.txt",
        REPO / "CHANGES.txt",
        *(REPO / "doc").glob("*.rst"),
        *(REPO / "examples").glob("*.py"),
    ]
    citing = [
        str(path.relative_to(REPO))
        for path in files
        if INTERNAL_NOTES.search(path.read_text(encoding="utf-8"))
    ]
    assert citing == []
