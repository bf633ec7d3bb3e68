"""guidecast: turn guided-session scripts into narrated, chaptered audio sessions."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
