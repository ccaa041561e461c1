"""Data sets: simulations and readers (the package ships no data).

- :mod:`desurv.datasets.simulation`: the DeSurv paper's simulation (:func:`simulate_desurv`).
- :mod:`desurv.datasets.readers`: expression and clinical TSV readers (:func:`load_cohort`).
- :mod:`desurv.datasets.mutational`: mutational catalogues and signatures
  (:func:`read_catalogue`, :func:`read_signatures`, :func:`load_synsig`) and a catalogue
  simulator (:func:`simulate_catalogues`: signatures from a reference such as COSMIC,
  Dirichlet exposures, negative-binomial counts, classes and a source/target domain shift).
"""

from desurv.datasets.mutational import (
    SBS96_CHANNELS,
    MutationalSimulation,
    SynSigData,
    load_synsig,
    random_signatures,
    read_catalogue,
    read_signatures,
    simulate_catalogues,
)
from desurv.datasets.readers import load_cohort, pool_cohorts, read_clinical, read_expression
from desurv.datasets.simulation import SIMULATION_SCENARIOS, SimulatedData, simulate_desurv

__all__ = [
    "SBS96_CHANNELS",
    "SIMULATION_SCENARIOS",
    "MutationalSimulation",
    "SimulatedData",
    "SynSigData",
    "load_cohort",
    "load_synsig",
    "pool_cohorts",
    "random_signatures",
    "read_catalogue",
    "read_clinical",
    "read_expression",
    "read_signatures",
    "simulate_catalogues",
    "simulate_desurv",
]
