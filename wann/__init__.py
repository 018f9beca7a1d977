"""wann: a distributed search service for Weight Agnostic Neural Networks (Gaier & Ha, 2019)."""

__version__ = "0.1.0"
