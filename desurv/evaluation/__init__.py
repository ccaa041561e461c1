"""Evaluation: external validation, risk groups and survival curves, matching and consensus.

- :mod:`desurv.evaluation.external`: a fitted model on independent cohorts (C-index, hazard
  ratios per SD with lifelines, pooled with the cohort as stratum): :func:`validate_cohorts`.
- :mod:`desurv.evaluation.stratification`: risk groups of η, cut points, Kaplan–Meier, log-rank.
- :mod:`desurv.evaluation.score_predictor`: the authors' score-based validation.
- :mod:`desurv.evaluation.matching`: Hungarian matching of factors across seeds, folds and
  cohorts (batched compiled assignment, cosine similarity).
- :mod:`desurv.evaluation.consensus`: consensus factors, stability, top-gene consensus seeds.
- :mod:`desurv.evaluation.medoids`: PAM k-medoids (BUILD + SWAP) on a distance matrix.
"""

from desurv._lazy import lazy_exports

_NAMES = {
    "BatchedFactorMatch": "matching",
    "ConsensusResult": "consensus",
    "FactorMatch": "matching",
    "LogRankResult": "stratification",
    "MedoidsResult": "medoids",
    "RiskGroupSurvival": "external",
    "ScoreBasedPredictor": "score_predictor",
    "StabilityResult": "consensus",
    "TopGeneSeed": "consensus",
    "ValidationResult": "external",
    "average_cosine_similarity": "matching",
    "consensus_factors": "consensus",
    "cosine_similarity": "matching",
    "evaluate_cohort": "external",
    "evaluate_risk_score": "score_predictor",
    "factor_stability": "consensus",
    "kaplan_meier": "stratification",
    "learn_cutpoint": "stratification",
    "linear_sum_assignment": "matching",
    "linear_sum_assignment_batched": "matching",
    "logrank": "stratification",
    "match_factors": "matching",
    "match_factors_batched": "matching",
    "match_to_reference": "matching",
    "pam": "medoids",
    "pam_cost": "medoids",
    "risk_groups": "stratification",
    "topgene_consensus_seed": "consensus",
    "validate_cohorts": "external",
}
__all__ = [
    "BatchedFactorMatch",
    "ConsensusResult",
    "FactorMatch",
    "LogRankResult",
    "MedoidsResult",
    "RiskGroupSurvival",
    "ScoreBasedPredictor",
    "StabilityResult",
    "TopGeneSeed",
    "ValidationResult",
    "average_cosine_similarity",
    "consensus_factors",
    "cosine_similarity",
    "evaluate_cohort",
    "evaluate_risk_score",
    "factor_stability",
    "kaplan_meier",
    "learn_cutpoint",
    "linear_sum_assignment",
    "linear_sum_assignment_batched",
    "logrank",
    "match_factors",
    "match_factors_batched",
    "match_to_reference",
    "pam",
    "pam_cost",
    "risk_groups",
    "topgene_consensus_seed",
    "validate_cohorts",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    _NAMES,
    ("consensus", "external", "matching", "medoids", "score_predictor", "stratification"),
)
