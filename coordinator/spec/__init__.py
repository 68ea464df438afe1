"""Experiments described: the validated spec, config files, field-path checks."""
