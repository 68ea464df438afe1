"""Warnings of the numerical libraries that the optimizer expects and nobody needs to see.

- sklearn warns when a fitted hyperparameter ends at its bound, as the noise of a
  deterministic metric does by design.
- scipy warns when a Sobol sequence is drawn in slices other than powers of two, which is how
  a design continues one sequence across calls (a little balance lost, accepted).

The filters are installed at import, and before each fit or draw where they are missing,
never with `catch_warnings` around the call: that swaps the process-wide filter list, so a
thread leaving its own `catch_warnings` during a fit (the run loop fits in a backlog thread)
put back a list without the fit's filter, and the warning reached `coordinator run`'s output.
Installing where missing covers an import made inside someone else's `catch_warnings`; where
they are present nothing changes, since every change to the filters also resets which
warnings Python has shown once.
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning

FITTING = r"sklearn\.gaussian_process"


def ignore_expected_warnings() -> None:
    if _installed():
        return
    warnings.filterwarnings("ignore", category=ConvergenceWarning, module=FITTING)
    warnings.filterwarnings("ignore", category=UserWarning, module=FITTING)
    warnings.filterwarnings("ignore", message="The balance properties of Sobol",
                            category=UserWarning)


def _installed() -> bool:
    """Whether the first of the filters above is in force (they are installed together)."""
    return any(action == "ignore" and category is ConvergenceWarning
               and module is not None and module.pattern == FITTING
               for action, _, category, module, _ in warnings.filters)


ignore_expected_warnings()
