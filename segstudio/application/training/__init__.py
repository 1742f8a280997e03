"""Training from a window: the run (request, saves written first, snapshot, run, the active model),
the model registry and the public checkpoints."""
