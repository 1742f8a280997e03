"""Background work for the window: loading, saving helpers, prediction, training, class rewrites."""
