"""Experiment state in Redis: states, key names, Lua transitions, records, the store."""
