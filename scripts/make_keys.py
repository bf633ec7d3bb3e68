#!/usr/bin/env python3
"""Write what guidecast's table of routine keys generates: the JSON Schema and the docs' tables.

The table lives in ``src/guidecast/routine/keys.py``, ``step_keys.py`` and ``breath_keys.py``.
This script writes ``schema/routine.schema.json`` (the output of ``guidecast schema``) and
rewrites the tables between ``<!-- keys:NAME -->`` and ``<!-- /keys:NAME -->`` in
``docs/routines.md``. With ``--check`` it writes nothing and exits 1 when either file is
stale (tests/test_keys.py checks the same).

Usage: ``python scripts/make_keys.py [--check]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from guidecast.routine.schema import schema_text, update_docs  # noqa: E402

SCHEMA = ROOT / "schema" / "routine.schema.json"
DOCS = ROOT / "docs" / "routines.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    docs = DOCS.read_text(encoding="utf-8")
    wanted = {SCHEMA: schema_text(), DOCS: update_docs(docs)}
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text("utf-8") != text]
    for path in stale:
        shown = path.relative_to(ROOT)
        if args.check:
            print(f"{shown} is stale: run python scripts/make_keys.py", file=sys.stderr)
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"wrote {shown}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
