"""Configuration: the shared schema pieces and the root-schema slot, composition, option files,
resolvers and the generic checks. Imports no feature package (``tools/import_graph.py`` checks)."""
