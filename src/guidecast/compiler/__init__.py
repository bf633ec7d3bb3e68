"""Compile: a routine and options to a timeline of symbolic events (pure, no audio)."""
