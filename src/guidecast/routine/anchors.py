"""YAML merge keys (`<<: *squat`) on the node tree, so merged values keep their positions.

PyYAML merges `<<` only when it builds Python objects; guidecast reads nodes (to locate every
problem), so the merge is done here, once, before a routine is read: the keys of the merged
mapping (or mappings, in a list: the first wins) come first, and the mapping's own keys
replace them. An anchor needs a home that is not a step: any top-level or step key that
starts with `x-` is ignored (as in Compose files), e.g. `x-squat: &squat {pose: Squats}`.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Loc, Problem

__all__ = ["EXTENSION_PREFIX", "MERGE_TAG", "merge_keys"]

MERGE_TAG = "tag:yaml.org,2002:merge"
EXTENSION_PREFIX = "x-"
"""Keys with this prefix are the author's own (a home for anchors): guidecast ignores them."""


def merge_keys(root: Node, path: str) -> list[Problem]:
    """Resolve every `<<` in the tree under `root`, in place; the problems it finds."""
    problems: list[Problem] = []
    done: set[int] = set()

    def loc(node: Node) -> Loc:
        return Loc(path, node.start_mark.line + 1, node.start_mark.column + 1)

    def visit(node: Node) -> None:
        if id(node) in done:
            return
        done.add(id(node))
        if isinstance(node, SequenceNode):
            for item in node.value:
                visit(item)
        elif isinstance(node, MappingNode):
            for _, value in node.value:
                visit(value)
            _merge(node)

    def _merge(node: MappingNode) -> None:
        own: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key, value in node.value:
            if not (isinstance(key, ScalarNode) and key.tag == MERGE_TAG):
                own.append((key, value))
                continue
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, MappingNode):
                    problems.append(
                        Problem(
                            loc(key),
                            "'<<' merges a mapping: an anchored one (<<: *squat) or a list of "
                            "them (<<: [*squat, *slow])",
                            "wrong-type",
                        )
                    )
                    continue
                visit(source)
                merged += source.value
        if len(own) == len(node.value):
            return
        taken = {k.value for k, _ in own if isinstance(k, ScalarNode)}
        kept: list[tuple[Node, Node]] = []
        for key, value in merged:
            name = key.value if isinstance(key, ScalarNode) else None
            if name in taken:
                continue  # the mapping's own key, or an earlier merged one, wins
            taken.add(name)
            kept.append((key, value))
        node.value = kept + own

    visit(root)
    return problems
