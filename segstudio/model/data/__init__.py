"""What the model sees: the split of a project's labelled images, their augmentation, and the batches.

* :mod:`.dataset` -- the train/validation split, the dataset read from disk, the samplers and the
  collate (the plan of which image comes at which step);
* :mod:`.augment` -- the SegFormer recipe's transforms on numpy images, and the normalisation every
  model input shares (:data:`.augment.IMAGENET_MEAN` / ``IMAGENET_STD``);
* :mod:`.batch_augment` -- the same augmentation as batched tensor operations (CPU or GPU);
* :mod:`.memory` -- a labelled set decoded once and held as tensors on the training device;
* :mod:`.run_data` -- a run's batches: from memory when the set fits, else streamed by workers.

Nothing here imports the trainer: the loop (:mod:`segstudio.model.training`) asks for batches.
"""
