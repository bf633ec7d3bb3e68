"""The output audio a session is rendered to: shared by the render, export and MP3 stages."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AudioFormat"]


@dataclass(frozen=True)
class AudioFormat:
    """Output audio: CBR MP3 at a bitrate, a sample rate, mono or stereo, and a loudness target."""

    sample_rate: int = 44100
    channels: int = 1
    bitrate: int = 64
    """kbit/s, constant."""
    quality: int = 3
    """LAME's algorithm quality (0 best, 9 fastest); 3 is fast with no audible loss at 64k."""
    bed_quality: int = 7
    """LAME's quality when a bed plays: no frame is silent then, so every one is encoded, and
    7 encodes about twice as fast as 3 at the same signal-to-noise ratio (docs/performance.md)."""
    loudness: float | None = None
    """Integrated loudness target in LUFS; None means -19 for mono, -16 for stereo."""
    true_peak: float = -2.0
    """Ceiling in dBTP, a margin under the -1 dBTP standard for the MP3 encoder's overshoot:
    usually under 0.2 dB on speech at 64 kbit/s, but 0.6 dB was seen on one seed session, which
    a 0.5 dB margin did not cover."""
    encoder_gain_db: float = -0.44
    """LAME (through lameenc) scales its input by about 0.95, measured by decoding with ffmpeg;
    the loudness target makes up for it so the decoded file lands on target."""

    @property
    def target_lufs(self) -> float:
        if self.loudness is not None:
            return self.loudness
        return -19.0 if self.channels == 1 else -16.0
