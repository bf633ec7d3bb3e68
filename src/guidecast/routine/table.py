"""How the field table declares a routine key (`Key`) and a mapping's keys (`Table`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .kinds import Kind, Schema

__all__ = ["Key", "Table", "describe", "key", "written"]

T = TypeVar("T")


@dataclass(frozen=True)
class Key(Generic[T]):
    """One routine key: what it holds, what it means, and what it is when left out."""

    name: str
    kind: Kind[T]
    doc: str
    """One line for the docs' tables and the editor's hover."""
    examples: tuple[Any, ...]
    default: T | None = None
    default_doc: str = ""
    """The default in words, when it is not simply `default` (`the year of rendering`)."""
    required: bool = False

    @property
    def shown_default(self) -> Any:
        """The default as a routine writes it (`5s`), or None."""
        return None if self.default is None else self.kind.show(self.default)

    @property
    def fallback(self) -> T:
        """The default, of a key that has one."""
        assert self.default is not None, f"'{self.name}' has no default"
        return self.default

    def or_default(self, value: T | None) -> T:
        """`value`, else this key's default."""
        return self.fallback if value is None else value


def key(name: str, kind: Kind[T], doc: str, *examples: Any, **more: Any) -> Key[T]:
    """Declare a key: its name, kind, one-line doc and examples (and `default=`...)."""
    return Key(name, kind, doc, examples, **more)


@dataclass(frozen=True)
class Table:
    """The keys one kind of mapping holds, and the rules across them."""

    name: str
    """Its name in the schema's `$defs` and in the docs' `<!-- keys:NAME -->` markers."""
    doc: str
    examples: tuple[Any, ...]
    keys: tuple[Key[Any], ...]
    one_of: tuple[str, ...] = ()
    """Exactly one of these keys."""
    excludes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(key, keys that may not stand beside it), besides the others of `one_of`."""
    needs: tuple[tuple[str, str], ...] = ()
    """(key, the key it needs)."""
    snippets: tuple[Schema, ...] = ()
    """Editor snippets (yaml-language-server's `defaultSnippets`)."""
    inline: bool = False
    """Written out where its key is in the schema, rather than as one of its `$defs`."""
    extensible: bool = False
    """Keys starting with `x-` are the author's own (a home for YAML anchors): ignored."""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys if k.required)


def describe(k: Key[Any]) -> str:
    """A key's doc with its range and default, as the schema's description says it."""
    shown = k.shown_default
    default = k.default_doc or ("" if shown is None else written(shown))
    limits = f" Range: {k.kind.limits}." if k.kind.limits else ""
    return k.doc + limits + (f" Default: {default}." if default else "")


def written(value: Any) -> str:
    """A value as YAML writes it: `true`, `5s`, `1.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
