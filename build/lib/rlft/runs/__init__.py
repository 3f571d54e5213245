"""Run folders: their layout, provenance, metrics file, and reading them (``reading``)."""
