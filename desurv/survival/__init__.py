"""Survival analysis: Cox partial likelihood (Breslow, Efron), the elastic-net Cox model
(:class:`CoxNet`), concordance, and Breslow baseline hazard and survival functions.

- :mod:`desurv.survival.cox`: partial likelihood, gradient and Hessian weights over risk sets.
- :mod:`desurv.survival.coxnet`: elastic-net Cox by cyclic coordinate descent; ``CoxNet``.
- :mod:`desurv.survival.coxmt`: Cox-MT, the mean-teacher semi-supervised Cox network;
  ``CoxMT``.
- :mod:`desurv.survival.concordance`: Harrell's C in O(n log n).
- :mod:`desurv.survival.functions`: Breslow baseline, ``StepFunction``, Wald inference.
"""

from typing import TYPE_CHECKING

from desurv._lazy import lazy_exports

_NAMES = {
    "CoxMT": "coxmt",
    "CoxNet": "coxnet",
    "StepFunction": "functions",
    "concordance_index": "concordance",
}
__all__ = [
    "CoxMT",
    "CoxNet",
    "StepFunction",
    "concordance_index",
]

if TYPE_CHECKING:
    from .concordance import concordance_index
    from .coxmt import CoxMT
    from .coxnet import CoxNet
    from .functions import StepFunction

__getattr__, __dir__ = lazy_exports(
    __name__, _NAMES, ("concordance", "cox", "coxmt", "coxnet", "functions")
)
