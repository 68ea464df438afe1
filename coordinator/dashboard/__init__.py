"""The experiment dashboard (served by `coordinator serve` at /dashboard, see app.py) and the
figures it shares with `coordinator report`."""
