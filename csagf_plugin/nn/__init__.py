"""CSAGFNet and the baselines: torch modules only."""
