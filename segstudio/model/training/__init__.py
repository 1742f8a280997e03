"""Training a SegFormer: the run's options and types, its loop, and the files it leaves.

Entry point :func:`.train.train`. Around it:

* without torch, for the window and the command line: :mod:`.options` (the one table of training
  options), :mod:`.types` (config, progress, result), :mod:`.history` (history.json);
* the run: :mod:`.loop` (set-up, steps, validation, saving); :mod:`.recipe` chooses the
  defaults, :mod:`.lr_schedule` the learning rate, :mod:`.run_schedule` when to validate and
  write, :mod:`.losses` the objective, :mod:`.state` the resumable state file,
  :mod:`.distributed` torchrun, :mod:`.cpu_threads` the CPU thread count;
* :mod:`.live` -- live training: a model that keeps learning from what is painted now.

The package's ``__init__`` imports nothing, so the torch-free modules stay torch-free.
"""
