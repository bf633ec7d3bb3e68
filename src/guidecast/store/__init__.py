"""Storage: atomic file writes and content-addressed blobs with checksums."""
