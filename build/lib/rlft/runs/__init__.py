"""Run folders: their layout, provenance and metrics file."""
