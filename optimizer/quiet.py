"""Warnings of the numerical libraries that the optimizer expects and nobody needs to see.

- sklearn warns when a fitted hyperparameter ends at its bound, as the noise of a
  deterministic metric does by design.
- scipy warns when a Sobol sequence is drawn in slices other than powers of two, which is how
  a design continues one sequence across calls (a little balance lost, accepted).

The filters are installed at import and again before each fit or draw, never with
`catch_warnings` around the call: that swaps the process-wide filter list, so a thread
leaving its own `catch_warnings` during a fit (the run loop fits in a backlog thread) put
back a list without the fit's filter, and the warning reached `coordinator run`'s output.
Installing again covers an import made inside someone else's `catch_warnings`.
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning

FITTING = r"sklearn\.gaussian_process"


def ignore_expected_warnings() -> None:
    warnings.filterwarnings("ignore", category=ConvergenceWarning, module=FITTING)
    warnings.filterwarnings("ignore", category=UserWarning, module=FITTING)
    warnings.filterwarnings("ignore", message="The balance properties of Sobol",
                            category=UserWarning)


ignore_expected_warnings()
