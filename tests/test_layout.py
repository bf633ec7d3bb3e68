"""The package layout reads as the pipeline: stage packages that import only the stages below."""

from __future__ import annotations

import ast
from pathlib import Path

import guidecast

PACKAGE = Path(guidecast.__file__).parent

STAGES = [
    "errors",
    "model",
    "store",
    "media",
    "lang",
    "routine",
    "compiler",
    "tts",
    "sound",
    "mp3",
    "session",
    "publish",
    "build",
    "cli",
]
"""From the bottom: a stage may import the stages before it in this list, never one after."""


def _module(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _imports() -> dict[str, set[str]]:
    """Every module's guidecast imports, as absolute module names (type-only ones included)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name, is_package = _module(path)
        targets = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                if node.module:
                    targets.add(".".join([*base, node.module]))
                else:
                    targets.update(".".join([*base, alias.name]) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("guidecast"):
                targets.add(node.module or "")
    return graph


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_at_most_twelve_modules_sit_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top


def test_every_module_belongs_to_a_stage() -> None:
    loose = [
        name
        for name in _imports()
        if name != "guidecast" and name != "guidecast.__main__" and _stage(name) is None
    ]
    assert loose == []


def test_a_stage_imports_only_the_stages_below_it() -> None:
    upward = [
        f"{name} imports {target}"
        for name, targets in _imports().items()
        for target in targets
        if (here := _stage(name))
        and (there := _stage(target))
        and STAGES.index(there) > STAGES.index(here)
    ]
    assert upward == []


def test_no_two_modules_import_each_other_even_for_types() -> None:
    graph = _imports()
    known = set(graph)
    done: set[str] = set()

    def cycle_from(start: str, path: list[str]) -> list[str] | None:
        for target in sorted(graph.get(start, ())):
            if target not in known or target in done:
                continue
            if target in path:
                return [*path[path.index(target) :], target]
            found = cycle_from(target, [*path, target])
            if found:
                return found
        done.add(start)
        return None

    for name in sorted(graph):
        assert cycle_from(name, [name]) is None
