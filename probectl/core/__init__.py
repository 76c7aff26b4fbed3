"""The functional core: pure functions over the API's JSON dicts. Standard library only."""
