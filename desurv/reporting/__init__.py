"""Interfaces for people: figures (matplotlib, the ``plot`` extra) and HTML reports.

- :mod:`desurv.reporting.plots`: loss curves, factor heat maps, Kaplan–Meier curves, CV
  surfaces, consensus maps.
- :mod:`desurv.reporting.rank_plots`: rank-selection figures (``plot_rank_survey``,
  ``plot_consensus_map``, ``plot_stability_vs_error``, ``plot_bootstrap_rank``).
- :mod:`desurv.reporting.signature_plots`: the 96-channel SBS profile (six-colour layout) and
  exposures per sample.
- :mod:`desurv.reporting.html`: a self-contained HTML report of a run folder
  (``desurv report``).
"""
