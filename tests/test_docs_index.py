"""soe_explore_docs (F-BI-2): the static index over the documentation in the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from soe_temporal.tools.docs_index import DOCS_DIRECTORY, DocsIndex, docs_index, explore_docs

GUIDE = """<!-- tags: Routing, basics -->
# The guide

Intro text about routers.

## Routers

Routers route signals.

### Conditions

Jinja conditions.

## Tools

Tools call functions.
"""


@pytest.fixture
def index(tmp_path: Path) -> DocsIndex:
    (tmp_path / "guide.md").write_text(GUIDE)
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "extra.md").write_text(
        "<!-- tags: basics -->\n# Extra\n\nAn agent page.\n"
    )
    (tmp_path / "more" / "ignored.txt").write_text("not indexed")
    docs_index.cache_clear()
    built = docs_index(tmp_path)
    docs_index.cache_clear()
    return built


def test_f_bi_2_list_a_directory_sorted_with_markers(index: DocsIndex):
    assert index.explore("/", "list") == "[FILE] guide.md\n[DIR] more/"
    assert index.explore("docs/more/", "list") == "[FILE] extra.md"


def test_f_bi_2_list_a_file_shows_its_sections(index: DocsIndex):
    assert index.explore("docs/guide.md", "list") == "[SEC] Routers\n[SEC] Tools"
    assert index.explore("docs/guide.md/routers", "list") == "[SEC] Conditions"


def test_f_bi_2_list_dot_shows_the_root_entries(index: DocsIndex):
    assert index.explore(".", "list") == "[DIR] docs/"


def test_f_bi_2_list_empty_and_unknown(index: DocsIndex):
    assert index.explore("docs/guide.md/tools", "list") == "(empty)"
    assert index.explore("nope", "list") == "Error: Path 'nope' not found in index."


def test_f_bi_2_read_a_file_and_a_section(index: DocsIndex):
    assert index.explore("docs/guide.md", "read") == GUIDE.rstrip("\n")
    assert index.explore("docs/guide.md/routers", "read") == (
        "## Routers\n\nRouters route signals.\n\n### Conditions\n\nJinja conditions.\n"
    )
    assert index.explore("docs/guide.md/routers/conditions", "read") == (
        "### Conditions\n\nJinja conditions.\n"
    )


def test_f_bi_2_read_errors(index: DocsIndex):
    assert index.explore("docs", "read") == (
        "Error: 'docs' is a directory. Use action='list' or 'tree'."
    )
    assert index.explore("docs/none.md", "read") == "Error: Path 'docs/none.md' not found."


def test_f_bi_2_tree_indents_two_spaces_per_level(index: DocsIndex):
    assert index.explore("", "tree") == (
        "[D] docs\n  [F] guide.md\n    [S] Routers\n      [S] Conditions\n    [S] Tools\n"
        "  [D] more\n    [F] extra.md"
    )
    assert index.explore("x", "tree") == "Error: Path 'x' not found."


def test_f_bi_2_search_by_words_drops_sections_of_matching_files(index: DocsIndex):
    assert index.explore("", "search", query="the routers") == ("[FILE] docs/guide.md: The guide")
    assert index.explore("", "search", query="Jinja") == (
        "[SEC] docs/guide.md/routers/conditions: Conditions"
    )


def test_f_bi_2_search_falls_back_to_the_whole_query(index: DocsIndex):
    assert index.explore("", "search", query="a") == index.explore("", "search", query="A")
    assert index.explore("", "search", query="zebra") == "No results found for: zebra"


def test_f_bi_2_search_by_tag(index: DocsIndex):
    assert index.explore("", "search", tag="basics") == (
        "[FILE] docs/guide.md: The guide\n[FILE] docs/more/extra.md: Extra"
    )
    assert index.explore("", "search", tag="none") == "No results for tag 'none'"
    assert index.explore("", "search") == "Error: Provide 'query' or 'tag' for search."


def test_f_bi_2_search_shows_at_most_20_results(tmp_path: Path):
    body = "\n".join(f"## Topic {n}\n\nalpha\n" for n in range(25))
    (tmp_path / "many.md").write_text(f"# Many\n\n{body}")
    index = docs_index.__wrapped__(tmp_path)
    lines = index.explore("", "search", query="topic").splitlines()
    assert len(lines) == 21 and lines[-1] == "... and 5 more results"


def test_f_bi_2_tags_and_unknown_action(index: DocsIndex):
    assert index.explore("", "get_tags") == "Available tags: ['basics', 'routing']"
    assert index.explore("", "fly") == "Error: Unknown action 'fly'"


def test_the_package_ships_docs_on_nodes_builtins_and_temporal():
    assert (DOCS_DIRECTORY / "builtin_tools.md").is_file()
    listing = explore_docs("/", "list").splitlines()
    assert {"[FILE] nodes.md", "[FILE] builtin_tools.md", "[FILE] temporal.md"} <= set(listing)
    index = docs_index()
    for path, item in index.items.items():
        if item.kind != "directory":
            assert not index.explore(path, "read").startswith("Error"), path
    for name in ("soe_inject_workflow", "soe_explore_docs", "soe_call_tool"):
        assert name in explore_docs("", "search", query=name)


def test_f_bi_2_paths_may_leave_out_the_docs_root(index: DocsIndex):
    read = index.explore("guide.md/routers", "read")
    assert read == index.explore("docs/guide.md/routers", "read")
    assert index.explore("/more/", "list") == "[FILE] extra.md"


def test_f_bi_2_a_section_may_be_named_by_its_title(index: DocsIndex):
    by_title = index.explore("guide.md/Routers/Conditions", "read")
    assert by_title == index.explore("docs/guide.md/routers/conditions", "read")
    assert by_title.startswith("### Conditions\n")


def test_f_bi_2_search_looks_through_a_sections_whole_text(tmp_path: Path):
    long_section = "## Long\n\n" + "filler " * 100 + "needle\n"
    (tmp_path / "page.md").write_text("# Page\n\n" + long_section)
    docs_index.cache_clear()
    built = docs_index(tmp_path)
    docs_index.cache_clear()
    assert built.explore("", "search", query="needle") == "[SEC] docs/page.md/long: Long"
