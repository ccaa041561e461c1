"""desurv: survival-driven deconvolution (NMF jointly fitted with an elastic-net Cox model)."""

__version__ = "0.1.0"
