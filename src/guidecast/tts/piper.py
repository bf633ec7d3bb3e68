"""The default offline voice: Piper running a bundled, installed or user-supplied `.onnx` voice."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EngineError
from ..media.arrays import Float
from ..media.cores import work_threads
from ..media.decode import INT16_MAX
from .base import Clip
from .piper_noise import NOISE_VERSION, fix_noise
from .piper_pace import make_proportional
from .voices import DEFAULT_VOICE, bundled_voices, resolve_voice

__all__ = ["DEFAULT_VOICE", "PiperEngine", "bundled_voices"]

log = logging.getLogger(__name__)
TEACHER_PACE = 1.38
"""Length scale at rate 1.0: Piper voices read at 200+ words a minute, a guided session at about
150. With proportional scaling (`piper_pace`) the pace lands at 140-165 words a minute."""


_ESPEAK = threading.Lock()
"""espeak-ng keeps global state (the language it phonemizes): one lock for every Piper voice,
since a session's parts may speak with two voices side by side."""


class PiperEngine:
    """Piper on the CPU; the model loads on first use, so planning never pays for it."""

    name = "piper"
    phonemes = True
    local = True
    """Takes `[[phonemes]]` inside the text (espeak IPA)."""
    workers: int
    """Sentences it can synthesize at once (one CPU core each)."""

    def __init__(self, voice: str | None = None, language: str | None = None) -> None:
        """Use `voice` (a name or .onnx path), else the best installed voice for `language`."""
        self.voice, self.model = resolve_voice(voice, language)
        self._voice: Any = None
        self._phonemizer = _ESPEAK
        self._loading = threading.Lock()
        self.workers = work_threads()

    def identity(self) -> str:
        stat = self.model.stat()
        return f"piper:{self.model.name}:{stat.st_size}:pace{TEACHER_PACE:g}:noise{NOISE_VERSION}"

    def _load(self) -> Any:
        with self._loading:
            return self._load_once()

    def _load_once(self) -> Any:
        if self._voice is None:
            try:
                import onnxruntime
                from piper import PiperVoice
                from piper.config import PiperConfig
            except ImportError as e:  # pragma: no cover - a declared dependency
                raise EngineError(f"Piper is not installed ({e}); run make demo") from None
            log.info("loading Piper voice %s", self.model.name)
            options = onnxruntime.SessionOptions()
            # Memory patterns are planned per input shape; every sentence has another length,
            # so they only pile up (about 100 MB over a session) without making it faster.
            options.enable_mem_pattern = False
            # One thread per session run: `workers` sentences run side by side instead, which
            # keeps both cores busier than one run spread over two threads.
            options.intra_op_num_threads = 1
            try:
                config = json.loads(Path(f"{self.model}.json").read_text("utf-8"))
                graph = _edited_graph(self.model)
                session = onnxruntime.InferenceSession(
                    graph, sess_options=options, providers=["CPUExecutionProvider"]
                )
                self._voice = PiperVoice(session=session, config=PiperConfig.from_dict(config))
            except Exception as e:
                raise EngineError(
                    f"Piper could not load voice '{self.model}'. Probable cause: {e}"
                ) from e
        return self._voice

    def phonemize(self, text: str) -> str:
        """The phonemes the voice will say for `text` (espeak IPA, `[[...]]` blocks as given)."""
        voice = self._load()
        with self._phonemizer:
            return " | ".join("".join(p) for p in voice.phonemize(text))

    def synthesize(self, text: str, *, rate: float) -> Clip:
        """Speak a sentence; safe to call from `workers` threads at once."""
        from piper import SynthesisConfig

        voice = self._load()
        natural = float(voice.config.length_scale or 1.0)
        config = SynthesisConfig(length_scale=natural * TEACHER_PACE / rate)
        parts: list[Float] = []
        try:
            with self._phonemizer:  # espeak-ng keeps global state
                sentences = voice.phonemize(text)
            for phonemes in filter(None, sentences):
                # The model runs outside the lock, releasing the GIL: threads overlap here.
                audio = np.asarray(
                    voice.phoneme_ids_to_audio(voice.phonemes_to_ids(phonemes), config)
                )
                peak = float(np.max(np.abs(audio))) if audio.size else 0.0
                parts.append((audio / peak if peak > 1e-8 else audio * 0).astype(np.float32))
        except Exception as e:
            raise EngineError(f"Piper failed to speak {text!r}. Probable cause: {e}") from e
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        samples = np.round(np.clip(audio, -1.0, 1.0) * INT16_MAX).astype(np.int16)
        return Clip(samples, int(voice.config.sample_rate))


def _edited_graph(path: Path) -> bytes | str:
    """The voice's ONNX graph as guidecast runs it: lengths scaled in proportion
    (`piper_pace`) and its noise fixed (`piper_noise`); the file itself if neither applies."""
    import onnx

    model = onnx.load(str(path))
    proportional = make_proportional(model, path.name)
    fixed = fix_noise(model)
    return model.SerializeToString() if proportional or fixed else str(path)
