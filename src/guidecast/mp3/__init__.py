"""Export: MP3 frames, encoded runs and splicing, ID3 tags and chapters, sidecars."""
