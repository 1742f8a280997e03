"""A model's files: where they are, where they come from, and how they load and save.

* :mod:`.model_files` -- the file names of a model folder, found without torch;
* :mod:`.checkpoints` -- load SegFormer weights from every common source, save ours
  (:mod:`.checkpoint_keys` maps the namings in the wild onto ours);
* :mod:`.model_source` -- from a MODEL argument to what the loader reads, and where a training run
  starts from;
* :mod:`.catalogue` -- the public checkpoints a user can start from;
* :mod:`.hub` -- a MODEL name (a catalogue name or any hub id) to local files: a path, the
  project's models, the Hugging Face cache (:mod:`.hub_cache`), a download (:mod:`.hub_http`: the
  transfers; :mod:`.hub_remote`: is the repository a SegFormer, and its licence);
  :mod:`.hub_import` brings a file fetched elsewhere into the cache; :mod:`.hub_ids` names hub
  models for both; :mod:`.hub_internals` holds every huggingface_hub name below its public API;
* :mod:`.preprocessing` -- a public checkpoint's image size and normalisation, from its
  ``preprocessor_config.json`` or segstudio's rule.

Only :mod:`.checkpoints` (and the file check of an import) needs torch.
"""
