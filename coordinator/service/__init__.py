"""The service layer: what the CLI, the HTTP API and the dashboard do to experiments."""
