"""Statistics, landscape measures, plots and the study report."""
