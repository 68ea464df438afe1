"""Where suggestions come from: the backlog and the optimizer behind it."""
