"""Dataset formats: boxes to masks, imports and exports (one module per format).

Imports write into a project's save folder through :class:`~.import_target.ImportTarget`, which
owns the rules that keep user files safe (existing masks skipped unless overwriting, classes only
appended, labels mapped by name). Exports write outside the project through
:mod:`.export_target` (never into the project, never into a non-empty folder unless told).
"""
