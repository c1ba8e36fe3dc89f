"""Which of SOE_SPEC's feature IDs no test names: ``python -m tests.feature_ids``.

A test names a feature in its function name (``test_f_tool_4_...`` names F-TOOL-4) or its
docstring (``F-TOOL-4``; ``F-CHILD-8/9`` and ``F-EXEC-3..5`` name each ID they span). The
IDs are those of the spec's checklist (§25), kept in ``feature_ids.txt``; ``--spec PATH``
reads them again from the spec.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IDS_FILE = HERE / "feature_ids.txt"

_NAMED = re.compile(r"(?:^|(?<=_))f_([a-z]+)_(\d+)(?!\d)")
_WRITTEN = re.compile(r"\bF-([A-Z]+)-(\d+)((?:(?:/|\.\.)\d+)*)")


def feature_ids(spec: Path | None = None) -> list[str]:
    if spec is None:
        lines = IDS_FILE.read_text().splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    checklist = spec.read_text().split("## 25. Feature checklist", 1)[1]
    return re.findall(r"^\| (F-[A-Z]+-\d+) \|", checklist, re.M)


def named_in(text: str) -> set[str]:
    """The feature IDs a test's name or docstring names."""
    found = {f"F-{group.upper()}-{number}" for group, number in _NAMED.findall(text)}
    for group, first, more in _WRITTEN.findall(text):
        numbers = [int(first)]
        for separator, number in re.findall(r"(/|\.\.)(\d+)", more):
            if separator == "..":
                numbers += range(numbers[-1] + 1, int(number) + 1)
            else:
                numbers.append(int(number))
        found.update(f"F-{group}-{n}" for n in numbers)
    return found


def named_by_tests(tests: Path = HERE) -> set[str]:
    named: set[str] = set()
    for path in tests.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test"
            ):
                named |= named_in(f"{node.name}\n{ast.get_docstring(node) or ''}")
    return named


def unnamed(spec: Path | None = None) -> list[str]:
    named = named_by_tests()
    return [feature for feature in feature_ids(spec) if feature not in named]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, help="read the IDs from SOE_SPEC.md and save them")
    args = parser.parse_args(argv)
    if args.spec:
        ids = feature_ids(args.spec)
        header = [line for line in IDS_FILE.read_text().splitlines() if line.startswith("#")]
        IDS_FILE.write_text("\n".join([*header, *ids]) + "\n")
    missing = unnamed()
    for feature in missing:
        print(feature)
    print(f"{len(missing)} of {len(feature_ids())} feature IDs named by no test", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
