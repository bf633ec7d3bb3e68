"""guidecast: turn guided-session scripts into narrated, chaptered audio sessions.

The pipeline as a library, one stage per module::

    from pathlib import Path
    import guidecast as gc

    routine = gc.load_routine("routines/back-stiffness.yaml")          # load (located errors)
    options = gc.resolve_options(routine, length_ms=10 * 60_000)         # the narration knobs
    voice = gc.Voice(gc.make_engine("piper"), gc.ClipCache(gc.default_cache_dir()),
                     rate=options.rate, sample_rate=44_100)
    done = gc.render_session(routine, options, voice=voice, output=Path("output"))
    gc.write_feed(Path("output"), base_url="https://example.org/yoga/")  # publish

Names load on first use, so `import guidecast` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_routine": "routine.load",
    "parse_routine": "routine.load",
    "compile_routine": "compiler.fit",
    "resolve_options": "compiler.options",
    "length_bounds": "compiler.fit",
    "Options": "compiler.options",
    "Timeline": "compiler.timeline",
    "layout": "compiler.timeline",
    "Narration": "model",
    "Routine": "model",
    "AudioFormat": "sound.render",
    "Voice": "sound.render",
    "Mix": "sound.mix",
    "resolve_mix": "sound.mix",
    "render_session": "session",
    "make_engine": "tts",
    "ClipCache": "tts",
    "default_cache_dir": "tts",
    "SessionInfo": "mp3.sessioninfo",
    "read_session_info": "mp3.sessioninfo",
    "write_feed": "publish.feed",
    "serve": "publish.serve",
    "GuidecastError": "errors",
    "RoutineError": "errors",
    "install_voice": "tts",
    "installed_voices": "tts",
    "language_for": "lang.i18n",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'guidecast' has no attribute {name!r}")
