"""The one error type users see: bad usage, configuration or unreadable input (exit code 2)."""


class UsageError(Exception):
    """A problem the user can fix: a bad flag, config file, rule code, path or revision."""
