"""The canvas: the painted image, its mask, overlay and prediction layers, and the tools that paint."""
