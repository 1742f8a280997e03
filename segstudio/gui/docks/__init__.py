"""The dock widgets around the canvas: classes, files, tools, models, training and review."""
