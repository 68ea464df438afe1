"""The `coordinator` command line."""
