"""The project session: opening a project, moving through its images, editing, saving, recovering.

``controller.ProjectSession`` owns the flow; the other modules are its parts: ``open_project`` (the
lock and the read-only reason), ``loading`` and ``load_queue`` (images loaded off the owner's thread),
``save_queue`` (writes as jobs and what is on disk), ``recovery_store``, ``undo_keeper`` and
``navigation``.
"""
