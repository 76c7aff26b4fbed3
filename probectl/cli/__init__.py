"""The typer CLI: options in, core calls, renderer strings out, errors to exit codes."""
