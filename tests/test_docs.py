"""The documentation: README.md is a short front page that begins with the two commands
that work on a fresh machine; docs/ holds one page per topic; every relative link (file and
#anchor) resolves; lint's rule catalog in docs/lint.md is generated from the code.

UPDATE_DOCS=1 rewrites the generated part of docs/lint.md (review the diff)."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^(```|~~~)")


def prose(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    out, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            out.append(line)
    return out


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in prose(path.read_text()):
        m = re.match(r"^#{1,6} (.+)$", line)
        if m:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


def links(path: Path) -> list[str]:
    found = []
    for line in prose(path.read_text()):
        line = re.sub(r"`[^`]*`", "", line)  # code spans are not links
        found += re.findall(r"\]\(([^)\s]+)\)", line)
    return [t for t in found if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]  # relative ones only


def test_readme_is_a_front_page_that_begins_with_the_two_commands():
    readme = ROOT / "README.md"
    assert readme.stat().st_size <= 16 * 1024
    text = readme.read_text()
    # only the title before the two commands
    before = text[:text.index("```")]
    assert [line for line in before.splitlines() if line.strip()] == ["# probectl"]
    first, second = code_blocks(text)[:2]
    assert "pip install ." in first and first.strip().endswith("probectl demo")
    # the tests, exactly as .ci/run runs them (its --quiet aside)
    run = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
           if line.strip() and not line.lstrip().startswith("#")]
    steps = [s.strip() for s in second.strip().split("&&")]
    wanted = ["python3 -m venv .venv", ". .venv/bin/activate", "python -m pip install -e '.[test]'", "python -m pytest"]
    assert steps == wanted
    ci = [shlex.join(w for w in shlex.split(line) if w != "--quiet") for line in run]
    for step in wanted:
        assert shlex.join(shlex.split(step)) in ci, step


def test_docs_has_pages_and_the_readme_lists_every_one():
    assert len(PAGES) >= 5
    readme = (ROOT / "README.md").read_text()
    listed = readme[readme.index("## Documentation"):]
    for page in PAGES:
        assert f"](docs/{page.name})" in listed, f"README's Documentation list misses docs/{page.name}"


@pytest.mark.parametrize("path", [ROOT / "README.md", ROOT / "CHANGELOG.md", *PAGES], ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    assert path.exists()
    for target in links(path):
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        assert dest.exists(), f"{path.name}: {target}: no such file"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{path.name}: {target}: no such heading in {dest.name}"


def test_the_link_checker_catches_broken_links(tmp_path):
    page = tmp_path / "a.md"
    page.write_text("# A page\n\n## Two words: `code`\n\n[x](b.md) [y](#two-words-code) [z](#nope)\n"
                    "```sh\n# not a heading\n[not](a-link.md)\n```\n")
    assert links(page) == ["b.md", "#two-words-code", "#nope"]
    assert anchors(page) == {"a-page", "two-words-code"}


def test_lint_rule_catalog_is_generated_from_the_code():
    from probectl.render.lint import render_rules_markdown

    path = DOCS / "lint.md"
    text = path.read_text()
    begin = text.index("\n", text.index("<!-- BEGIN rules")) + 1
    end = text.index("<!-- END rules -->")
    want = "\n" + render_rules_markdown()
    if os.environ.get("UPDATE_DOCS"):
        path.write_text(text[:begin] + want + text[end:])
        text = path.read_text()
        end = text.index("<!-- END rules -->")
    assert text[begin:end] == want, "docs/lint.md's rule catalog drifted from the code (UPDATE_DOCS=1 rewrites it)"


def test_docs_and_readme_read_at_100_columns_outside_tables_and_code():
    """Prose is wrapped for a reader with a terminal and an editor, not only a browser."""
    for path in [ROOT / "README.md", *PAGES]:
        long = [line for line in prose(path.read_text())
                if len(line) > 100 and not line.startswith("|") and "<!--" not in line and not line.startswith("### ")]
        assert not long, f"{path.name}: {long[:3]}"


def _demo(cli, monkeypatch, width: int) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    status, out, _ = cli("demo")
    assert status == 0
    return out


def test_the_why_examples_are_real_output(cli, monkeypatch):
    """README's short example and docs/why.md's two are what `probectl demo` prints (README's
    leaves the events out, saying so)."""
    narrow, wide = _demo(cli, monkeypatch, 80), _demo(cli, monkeypatch, 120)
    readme = next(b for b in code_blocks((ROOT / "README.md").read_text()) if b.startswith("$ probectl demo"))
    shown = [line for line in readme.splitlines()[1:] if line.strip() != "...  (4 events)"]
    assert len(shown) > 20 and all(line in narrow.splitlines() for line in shown)
    blocks = [b for b in code_blocks((DOCS / "why.md").read_text()) if "probectl demo" in b.split("\n", 1)[0]]
    assert [b.split("\n", 1)[1] for b in blocks[:2]] == [wide, narrow]
