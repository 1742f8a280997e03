"""Live mode: a model that learns while the user paints, and scribble projects."""
