"""Warnings and errors raised by desurv."""


class ConvergenceWarning(UserWarning):
    """A solver stopped at ``max_iter`` before meeting its tolerance."""


class DataWarning(UserWarning):
    """Input data are usable but suspicious (e.g. a fold without events)."""
