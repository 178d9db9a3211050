"""istiolint's built-in checks, registered as entry points in pyproject.toml."""
