"""Celeriac's coordinator: owns experiment state in Redis and hands out suggestions."""
