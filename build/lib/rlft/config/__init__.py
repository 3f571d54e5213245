"""Configuration: the typed schema, Hydra resolvers, validation and the resume merge."""
