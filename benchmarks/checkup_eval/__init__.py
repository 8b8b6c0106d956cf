"""checkup's evaluation set: setups modelled on real public reports (see common.py)."""
