"""Answer backends, prompt filling, citation parsing and verification."""
