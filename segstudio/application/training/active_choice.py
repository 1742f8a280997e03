"""The question a worse run asks: keep the better active model, or use the new one (no Qt).

Why a question: a run that scores lower than the active model used to replace it (every
prediction then got worse without a word), and later was silently kept aside (the user who
wanted the new classes or the new data then wondered why nothing changed). Neither is right
every time: the validation sets of two runs may differ, and only the user knows whether the new
run's data matters more. So when both were validated and the new one scores lower, the active
model stays for now and the window asks (:class:`ActiveChoice`); the training controller applies
the answer (:meth:`TrainingController.answer`).
"""

from __future__ import annotations

from dataclasses import dataclass

from segstudio.application.training.model_registry import ModelRecord


@dataclass(frozen=True)
class ActiveChoice:
    """A finished run (``new``) that scored lower than the ``active`` model."""

    new: ModelRecord
    active: ModelRecord

    @property
    def question(self) -> str:
        return (f"{self.new.name} scored val mIoU {self.new.best_miou:.3f}, lower than the active "
                f"{self.active.name} ({self.active.best_miou:.3f}). {self.active.name} is better on its "
                f"validation: keep it, or use {self.new.name}?")

    @property
    def keep_text(self) -> str:
        return f"Keep {self.active.name} (better)"

    @property
    def use_text(self) -> str:
        return f"Use {self.new.name}"

    def answered(self, use_new: bool) -> str:
        """What the window says once the user has answered."""
        if use_new:
            return f"{self.new.name} is the active model now (val mIoU {self.new.best_miou:.3f})."
        return (f"{self.active.name} stays the active model; {self.new.name} is kept in the Models dock "
                "(Use there switches).")


def worse_run(new: ModelRecord | None, active: ModelRecord | None) -> ActiveChoice | None:
    """The question to ask when ``new`` and ``active`` were both validated and ``new`` is worse."""
    from segstudio.application.training.model_registry import replaces_active

    if new is None or active is None or replaces_active(new, active)[0]:
        return None
    return ActiveChoice(new, active)
