"""Sources: the only code that reads files or talks to an API server."""
