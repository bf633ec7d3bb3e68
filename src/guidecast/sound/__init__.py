"""Render: speech through the voice and cache, levels, bells and beds, a PCM stream."""
