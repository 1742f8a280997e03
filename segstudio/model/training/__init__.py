"""Training a SegFormer: the run's options and types, its loop, and the files it leaves.

Entry point :func:`.train.train`. Around it:

* without torch, for the window and the command line: :mod:`.options` (the one table of training
  options), :mod:`.types` (config, progress, result), :mod:`.history` (history.json);
* the run: :mod:`.loop` sets it up, steps and validates, composing the data side
  (:mod:`.loop_data`), the optimiser side (:mod:`.optimiser`: AdamW, learning rate, mixed
  precision, the step), the file writer (:mod:`.checkpoint_writer`: model, state, history.json,
  and when), the record of validation points (:mod:`.record`) and the step rate (:mod:`.pace`);
  :mod:`.recipe` chooses the defaults, :mod:`.lr_schedule` the learning rate,
  :mod:`.run_schedule` when to validate and write, :mod:`.losses` the objective, :mod:`.state`
  the resumable state file, :mod:`.distributed` torchrun, :mod:`.cpu_threads` the CPU threads;
* :mod:`.live` -- live training: a model that keeps learning from what is painted now.

The package's ``__init__`` imports nothing, so the torch-free modules stay torch-free.
"""
