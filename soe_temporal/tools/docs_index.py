"""The documentation shipped in the package, as soe_explore_docs navigates it (F-BI-2).

The index is built from ``soe_temporal/tools/docs`` on first use: a directory, its Markdown
files, and each file's ``##``/``###`` sections with their line ranges. A file's tags come
from its first line, ``<!-- tags: a, b -->``. Paths look like ``docs/nodes.md`` and
``docs/nodes.md/router-node``; the leading ``docs/`` may be left out, and a section may be
named by its title (``docs/nodes.md/Router node``). Search looks through each section's
whole text.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

DOCS_DIRECTORY = Path(__file__).parent / "docs"
ROOT = "docs"
MAX_SEARCH_LINES = 20
_TAGS = re.compile(r"<!--\s*tags:\s*(.*?)\s*-->")
_HEADING = re.compile(r"^(#{2,3})\s+(.*\S)\s*$")
_MARKERS = {"directory": ("[DIR]", "[D]"), "file": ("[FILE]", "[F]"), "section": ("[SEC]", "[S]")}
STOP_WORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from",
    "how", "in", "is", "it", "me", "my", "of", "on", "or", "the", "this", "to", "use",
    "what", "when", "where", "which", "who", "why", "with", "you", "your",
))  # fmt: skip


@dataclass
class DocItem:
    path: str
    kind: str  # directory | file | section
    title: str
    parent: str | None
    text: str = ""  # what search looks through: a section's own text, a file's introduction
    # For a section: the lines of its file, 1-based and inclusive.
    lines: tuple[int, int] | None = None
    children: list[str] = field(default_factory=list)


@dataclass
class DocsIndex:
    items: dict[str, DocItem]
    tags: dict[str, list[str]]
    texts: dict[str, list[str]]  # file path -> its lines

    def explore(
        self, path: str, action: str, query: str | None = None, tag: str | None = None
    ) -> str:
        """One soe_explore_docs call; errors are returned as text, as SOE does."""
        path = self._resolve((path or "").strip("/") or ROOT)
        if action == "list":
            return self._list(path)
        if action == "read":
            return self._read(path)
        if action == "tree":
            return self._tree(path)
        if action == "search":
            return self._search(query, tag)
        if action == "get_tags":
            return f"Available tags: {sorted(self.tags)}"
        return f"Error: Unknown action '{action}'"

    def _resolve(self, path: str) -> str:
        """The indexed path meant by ``path``, or ``path`` itself when there is none."""
        if path in self.items or path == ".":
            return path
        parts = path.split("/")
        found = ROOT
        for part in parts[1:] if parts[0] == ROOT else parts:
            found = next(
                (c for c in (f"{found}/{part}", f"{found}/{_slug(part)}") if c in self.items),
                "",
            )
            if not found:
                return path
        return found

    def _list(self, path: str) -> str:
        if path == ".":
            names = [p for p, item in self.items.items() if item.parent is None]
        elif path in self.items:
            names = self.items[path].children
        else:
            return f"Error: Path '{path}' not found in index."
        lines = [self._line(self.items[name]) for name in sorted(names)]
        return "\n".join(lines) if lines else "(empty)"

    def _line(self, item: DocItem) -> str:
        marker = _MARKERS[item.kind][0]
        if item.kind == "directory":
            return f"{marker} {item.path.rsplit('/', 1)[-1]}/"
        if item.kind == "file":
            return f"{marker} {item.path.rsplit('/', 1)[-1]}"
        return f"{marker} {item.title}"

    def _read(self, path: str) -> str:
        item = self.items.get(path)
        if item is None:
            return f"Error: Path '{path}' not found."
        if item.kind == "directory":
            return f"Error: '{path}' is a directory. Use action='list' or 'tree'."
        if item.kind == "file":
            return "\n".join(self.texts[path])
        assert item.lines is not None
        start, end = item.lines
        return "\n".join(self.texts[_file_of(item, self.items)][start - 1 : end])

    def _tree(self, path: str) -> str:
        if path not in self.items:
            return f"Error: Path '{path}' not found."
        lines: list[str] = []

        def walk(name: str, depth: int) -> None:
            item = self.items[name]
            label = item.title if item.kind == "section" else name.rsplit("/", 1)[-1]
            lines.append(f"{'  ' * depth}{_MARKERS[item.kind][1]} {label}")
            for child in sorted(item.children):
                walk(child, depth + 1)

        walk(path, 0)
        return "\n".join(lines)

    def _search(self, query: str | None, tag: str | None) -> str:
        if tag:
            if tag not in self.tags:
                return f"No results for tag '{tag}'"
            matches = sorted(self.tags[tag])
            shown = tag
        elif query:
            words = [w for w in query.lower().split() if len(w) > 1 and w not in STOP_WORDS] or [
                query.lower()
            ]
            shown = " ".join(words)
            found = {
                path
                for path, item in self.items.items()
                if any(w in f"{item.path} {item.title} {item.text}".lower() for w in words)
            }
            matches = sorted(
                p
                for p in found
                if not (
                    self.items[p].kind == "section" and _file_of(self.items[p], self.items) in found
                )
            )
        else:
            return "Error: Provide 'query' or 'tag' for search."
        if not matches:
            return f"No results found for: {shown}"
        lines = [
            f"{_MARKERS[self.items[p].kind][0]} {p}: {self.items[p].title}"
            for p in matches[:MAX_SEARCH_LINES]
        ]
        if len(matches) > MAX_SEARCH_LINES:
            lines.append(f"... and {len(matches) - MAX_SEARCH_LINES} more results")
        return "\n".join(lines)


def _file_of(item: DocItem, items: dict[str, DocItem]) -> str:
    while item.kind == "section":
        assert item.parent is not None
        item = items[item.parent]
    return item.path


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"


@functools.cache
def docs_index(directory: Path = DOCS_DIRECTORY) -> DocsIndex:
    """The index over the packaged docs (built once per process)."""
    items: dict[str, DocItem] = {}
    tags: dict[str, list[str]] = {}
    texts: dict[str, list[str]] = {}

    def add_directory(folder: Path, path: str, parent: str | None) -> None:
        items[path] = DocItem(path, "directory", folder.name, parent)
        for entry in sorted(folder.iterdir()):
            child = f"{path}/{entry.name}"
            if entry.is_dir():
                add_directory(entry, child, path)
            elif entry.suffix == ".md":
                add_file(entry, child, path)
            else:
                continue
            items[path].children.append(child)

    def add_file(file: Path, path: str, parent: str) -> None:
        lines = file.read_text(encoding="utf-8").splitlines()
        texts[path] = lines
        tagged = _TAGS.match(lines[0]) if lines else None
        for tag in tagged.group(1).split(",") if tagged else []:
            if tag.strip():
                tags.setdefault(tag.strip().lower(), []).append(path)
        title = next(
            (line.lstrip("# ").strip() for line in lines if line.startswith("# ")), file.name
        )
        headings = [
            (number, len(match.group(1)), match.group(2))
            for number, line in enumerate(lines, 1)
            if (match := _HEADING.match(line))
        ]
        # A file's own preview is its introduction: what comes before its first section.
        intro = lines[: headings[0][0] - 1] if headings else lines
        body = " ".join(
            line for line in intro if line.strip() and not line.startswith(("<!--", "# "))
        )
        items[path] = DocItem(path, "file", title, parent, body)
        open_sections: list[tuple[int, str]] = []  # (level, path), for nesting
        for index, (number, level, heading) in enumerate(headings):
            end = len(lines)
            for later_number, later_level, _ in headings[index + 1 :]:
                if later_level <= level:
                    end = later_number - 1
                    break
            while open_sections and open_sections[-1][0] >= level:
                open_sections.pop()
            owner = open_sections[-1][1] if open_sections else path
            section = f"{owner}/{_slug(heading)}"
            # Its own text, up to its first subsection (that one matches on its own).
            own_end = headings[index + 1][0] - 1 if index + 1 < len(headings) else end
            own = " ".join(line for line in lines[number:own_end] if line.strip())
            items[section] = DocItem(section, "section", heading, owner, own, (number, end))
            items[owner].children.append(section)
            open_sections.append((level, section))

    if directory.is_dir():
        add_directory(directory, ROOT, None)
    return DocsIndex(items, tags, texts)


def explore_docs(path: str, action: str, query: str | None = None, tag: str | None = None) -> str:
    """soe_explore_docs (F-BI-2) over the packaged documentation."""
    return docs_index().explore(path, action, query, tag)
