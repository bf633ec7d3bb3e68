#!/usr/bin/env python3
"""Compare voices as a listener's ear would: Whisper word error rate, how "stay" is heard, and
bandwidth, for sentences a voice spoke one WAV each (the figures in docs/voices.md).

    # 40 seed sentences from a rendered session: every one with "stay", the rest spread out
    python scripts/voice_wer.py sentences output/love-your-spine.vtt > sentences.txt
    # speak them with a guidecast voice, one WAV per line (00.wav, 01.wav, ...)
    python scripts/voice_wer.py speak sentences.txt wavs/joe --voice joe
    # then, in a scratch environment with faster-whisper, jiwer and soundfile installed and a
    # faster-whisper model folder (Whisper base ships on the package index in two parts):
    python scripts/voice_wer.py score sentences.txt wavs/joe --model whisper-base

`score` prints one JSON line: WER in percent, "stay" heard / said, the frequencies below which
99 % and 99.9 % of the energy lie, and the share of energy above 4 and 8 kHz in dB.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import wave
from pathlib import Path
from typing import Any

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def seed_sentences(vtt: Path, count: int = 40) -> list[str]:
    """`count` distinct cues of a `.vtt`: all that say "stay", the rest evenly spread."""
    cues: list[str] = []
    for block in vtt.read_text("utf-8").split("\n\n")[1:]:
        lines = block.strip().split("\n")
        text = " ".join(lines[1:])
        if len(lines) >= 2 and text not in cues:
            cues.append(text)
    stay = [t for t in cues if re.search(r"\bstay\b", t, re.I)][:count]
    others = [t for t in cues if t not in stay and len(t.split()) >= 3]
    step = len(others) / max(1, count - len(stay))
    spread = (int(i * step) for i in range(count - len(stay)))
    picked = {others[k] for k in spread if k < len(others)}
    return [t for t in cues if t in stay or t in picked]


def speak(sentences: list[str], folder: Path, voice: str) -> None:
    """Say each sentence with a guidecast Piper voice; print CPU seconds per second of speech."""
    from guidecast.tts import PiperEngine

    engine = PiperEngine(voice)
    folder.mkdir(parents=True, exist_ok=True)
    cpu = audio = 0.0
    for i, text in enumerate(sentences):
        start = time.process_time()
        clip = engine.synthesize(text, rate=1.0)
        cpu += time.process_time() - start
        audio += len(clip.samples) / clip.sample_rate
        with wave.open(str(folder / f"{i:02d}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(clip.sample_rate)
            out.writeframes(clip.samples.tobytes())
    print(f"{voice}: {audio:.1f} s of speech, {cpu / audio:.3f} CPU s per second of speech")


def words(text: str) -> str:
    """Lower case, no punctuation, digits as words: what WER compares."""
    text = text.lower().replace("-", " ")
    for number, word in enumerate(DIGITS):
        text = re.sub(rf"\b{number}\b", word, text)
    return " ".join(re.sub(r"[^a-z' ]", " ", text).split())


def score(sentences: list[str], folder: Path, model: str) -> dict[str, Any]:
    """Transcribe each WAV with faster-whisper and measure its spectrum."""
    import jiwer
    import numpy as np
    import soundfile
    from faster_whisper import WhisperModel

    asr = WhisperModel(model, device="cpu", compute_type="int8", cpu_threads=2)
    heard: list[str] = []
    said = got = 0
    power: Any = None
    rate = 0
    for i, ref in enumerate(sentences):
        path = folder / f"{i:02d}.wav"
        audio, rate = soundfile.read(str(path), dtype="float32")
        segments, _ = asr.transcribe(str(path), language="en", beam_size=5)
        hyp = words(" ".join(s.text for s in segments))
        heard.append(hyp)
        n = words(ref).split().count("stay")
        said, got = said + n, got + min(n, hyp.split().count("stay"))
        if len(audio) > 2048:
            frames = np.lib.stride_tricks.sliding_window_view(audio, 2048)[::1024]
            spectrum = np.sum(np.abs(np.fft.rfft(frames * np.hanning(2048), axis=1)) ** 2, axis=0)
            power = spectrum if power is None else power + spectrum
    freqs = np.fft.rfftfreq(2048, 1 / rate)
    share = np.cumsum(power) / np.sum(power)

    def above(hz: float) -> float:
        return round(float(10 * np.log10(np.sum(power[freqs >= hz]) / np.sum(power))), 1)

    return {
        "wer": round(100 * jiwer.wer([words(s) for s in sentences], heard), 1),
        "stay": f"{got}/{said}",
        "rolloff99_hz": round(float(freqs[np.searchsorted(share, 0.99)])),
        "rolloff999_hz": round(float(freqs[np.searchsorted(share, 0.999)])),
        "above_4k_db": above(4000),
        "above_8k_db": above(8000),
        "sample_rate": rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("sentences", help="pick seed sentences from a .vtt")
    seed.add_argument("vtt", type=Path)
    seed.add_argument("--count", type=int, default=40)
    say = sub.add_parser("speak", help="say the sentences with a guidecast voice")
    say.add_argument("sentences", type=Path)
    say.add_argument("folder", type=Path)
    say.add_argument("--voice", default="joe")
    judge = sub.add_parser("score", help="WER, 'stay' and roll-off of spoken sentences")
    judge.add_argument("sentences", type=Path)
    judge.add_argument("folder", type=Path)
    judge.add_argument("--model", required=True, help="a faster-whisper model folder")
    args = parser.parse_args()
    if args.command == "sentences":
        sys.stdout.write("".join(f"{s}\n" for s in seed_sentences(args.vtt, args.count)))
        return
    lines = args.sentences.read_text("utf-8").splitlines()
    if args.command == "speak":
        speak(lines, args.folder, args.voice)
    else:
        print(json.dumps({"voice": args.folder.name, **score(lines, args.folder, args.model)}))


if __name__ == "__main__":
    main()
