"""Sound and images: decoding, signal helpers, loudness, output format, beds, covers."""
