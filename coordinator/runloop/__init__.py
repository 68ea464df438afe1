"""`coordinator run`: dispatch, sweep and report until the budget is spent."""
