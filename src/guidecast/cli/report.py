"""What a command did with the files it was given: the counts, the summary line, the exit code.

Like black's `Report`: the command tells it each outcome as it goes, and at the end asks it for
the line that sums them up and the code to exit with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import GuidecastError, printable

__all__ = ["FAILED", "INTERRUPTED", "MISTAKE", "OK", "Report"]

OK = 0
FAILED = 1
"""A failure while working: a speech engine, the disk."""
MISTAKE = 2
"""A mistake in a routine or on the command line."""
INTERRUPTED = 130
"""Ctrl-C: 128 + SIGINT, as shells report it."""


@dataclass
class Report:
    """Outcomes file by file: `done` and `failed` as they happen, then `str(report)` and
    `return_code`."""

    noun: str = "sessions"
    verb: str = "rendered"
    done_count: int = 0
    failures: list[tuple[str, GuidecastError]] = field(default_factory=list)
    """The files that failed, in the order they did, with their errors."""

    def done(self, path: str) -> None:
        """One file went through."""
        self.done_count += 1

    def failed(self, path: str, error: GuidecastError) -> None:
        """One file did not."""
        self.failures.append((path, error))

    @property
    def failure_count(self) -> int:
        return len(self.failures)

    @property
    def return_code(self) -> int:
        """The worst exit code among the failures (a mistake outranks a failure); 0 if none."""
        return max((error.exit_code for _, error in self.failures), default=OK)

    def __str__(self) -> str:
        """'1 of 2 sessions rendered; failed: bad.yaml'."""
        total = self.done_count + self.failure_count
        line = f"{self.done_count} of {total} {self.noun} {self.verb}"
        if self.failures:
            line += "; failed: " + ", ".join(printable(path) for path, _ in self.failures)
        return line
