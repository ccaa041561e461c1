"""Data sets: simulations and readers (the package ships no data).

- :mod:`desurv.datasets.simulation`: the DeSurv paper's simulation (:func:`simulate_desurv`).
- :mod:`desurv.datasets.readers`: expression and clinical TSV readers (:func:`load_cohort`).
"""

from desurv.datasets.readers import load_cohort, pool_cohorts, read_clinical, read_expression
from desurv.datasets.simulation import SIMULATION_SCENARIOS, SimulatedData, simulate_desurv

__all__ = [
    "SIMULATION_SCENARIOS",
    "SimulatedData",
    "load_cohort",
    "pool_cohorts",
    "read_clinical",
    "read_expression",
    "simulate_desurv",
]
