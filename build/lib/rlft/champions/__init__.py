"""The champion registry: immutable, checksummed, pickle-free model folders (DESIGN.md section 4)."""
