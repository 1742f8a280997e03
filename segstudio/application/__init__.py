"""The application layer: what the window does, without Qt and without torch on import.

Grouped by use case: ``session`` (the open project, its images and every write), ``training``
(a run from the click on Train to the active model, the model registry), ``review`` (predictions,
class mapping, metrics, accept, predict-all, the prediction cache) and ``live`` (live mode,
scribbles). Each flow has one controller (psygnal events, pools and timers it is given), tested
without a screen; ``segstudio.gui`` only turns events into calls here and results into pixels.
"""
