"""Language: the phrases guidecast says, their catalogs, and speech-length estimates."""
