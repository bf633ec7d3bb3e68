"""Run `python -m guidecast`."""

from .cli import main

main()
