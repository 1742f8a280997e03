"""``segstudio-cli train --minutes``: usage errors, a budget too short, and --resume keeping the plan."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pytest

from segstudio.cli.main import main
from segstudio.model.training import budget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "model"))
from train_synth import make_project  # noqa: E402


def test_minutes_with_steps_or_epochs_is_a_usage_error(tmp_path, capsys):
    image_dir, save_dir = make_project(tmp_path, count=3)
    for length in (["--steps", "5"], ["--epochs", "2"]):
        status = main(["train", str(save_dir), "--images", str(image_dir), "--minutes", "2", *length])
        err = capsys.readouterr().err.strip()
        assert status == 1 and "--minutes" in err and "not allowed with" in err and len(err.splitlines()) == 1
    assert not (save_dir / "models").exists()


def test_a_budget_too_short_is_refused_in_one_line_before_training(tmp_path, capsys):
    image_dir, save_dir = make_project(tmp_path, count=3)
    for minutes in ("0.1", "0", "nan"):
        status = main(["train", str(save_dir), "--images", str(image_dir), "--minutes", minutes])
        err = capsys.readouterr().err.strip()
        assert status == 1 and len(err.splitlines()) == 1, err
        assert "too short to learn anything" in err or "must be" in err or "positive" in err
    assert not (save_dir / "models").exists()


@pytest.fixture
def steady_machine(monkeypatch):
    """Every probe measures the same: a step of 0.1 s + 0.1 s per 2x64x64 pixels, a forward of 10 ms."""
    from segstudio.model.training import budget_run

    def steps(model, raw, loss, cfg, recipe, k, device, points):
        return [(p.size, p.batch, 0.1 + 0.1 * p.batch * p.size * p.size / (2 * 64 * 64)) for p in points]
    monkeypatch.setattr(budget_run, "measure_steps", steps)
    monkeypatch.setattr(budget_run, "measure_forward", lambda *a, **k: 0.01)


def test_a_measured_machine_too_slow_for_the_budget_refuses_before_the_first_step(tmp_path, monkeypatch):
    from segstudio.core.errors import TrainingError
    from segstudio.core.project import Project
    from segstudio.model.training import budget_run
    from segstudio.model.training.train import TrainConfig, train

    monkeypatch.setattr(budget_run, "measure_steps",
                        lambda *a: [(p.size, p.batch, 5.0 * p.batch) for p in a[-1]])
    monkeypatch.setattr(budget_run, "measure_forward", lambda *a, **k: 0.5)
    image_dir, save_dir = make_project(tmp_path, count=6)
    project = Project(image_dir, save_dir)
    with pytest.raises(TrainingError, match="too short to learn anything on this machine"):
        train(project, TrainConfig(init="b0", minutes=1.0, num_workers=0, name="short"))
    assert not (save_dir / "models" / "short").exists()  # nothing of a refused run is written


def test_resume_keeps_the_recorded_plan(tmp_path, capsys, steady_machine):
    from segstudio.cli import train as cli_train
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train

    image_dir, save_dir = make_project(tmp_path, count=6)
    project = Project(image_dir, save_dir)
    steps = iter(range(1000))
    result = train(project, TrainConfig(init="b0", minutes=1.0, num_workers=0, name="plan"),
                   should_stop=lambda: next(steps) >= 3)
    assert result.status == "stopped"
    assert any(note.startswith("time budget 1 min: 64 px crops") for note in result.notes)
    history = json.loads((save_dir / "models" / "plan" / "history.json").read_text())
    plan = history["budget"]
    assert plan["minutes"] == 1.0 and plan["size"] == 64 and plan["steps"] == history["total_steps"]
    assert plan["measured"] and plan["steps"] >= 100
    assert plan["steps"] < budget.FULL_STEPS and plan["lr"] == pytest.approx(budget.SHORT_LR_SCALE * 1e-3)
    assert any("a short schedule from scratch: lr 0.0015" in note for note in result.notes)

    parser = argparse.ArgumentParser()
    cli_train.add_parser(parser.add_subparsers())
    args = parser.parse_args(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "plan"])
    config, _ = cli_train._config(args, Project(image_dir, save_dir, read_only=True))
    assert (config.steps, config.size, config.batch, config.minutes) == (plan["steps"], 64, plan["batch"], None)
    assert config.lr == pytest.approx(plan["lr"])  # the plan's rate goes on
    assert config.resume

    base = ["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "plan"]
    assert main([*base, "--minutes", "5"]) == 1
    assert "recorded budget of 1" in capsys.readouterr().err
    assert main([*base, "--steps", "7"]) == 1
    assert "--steps 7" in capsys.readouterr().err


@pytest.mark.slow
def test_a_resumed_budget_run_finishes_its_recorded_plan(tmp_path, capsys, steady_machine):
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train

    image_dir, save_dir = make_project(tmp_path, count=6)
    steps = iter(range(1000))
    train(Project(image_dir, save_dir), TrainConfig(init="b0", minutes=1.0, num_workers=0, name="plan"),
          should_stop=lambda: next(steps) >= 3)
    folder = save_dir / "models" / "plan"
    plan = json.loads((folder / "history.json").read_text())["budget"]
    status = main(["train", str(save_dir), "--images", str(image_dir), "--resume", "--out", "plan", "--workers", "0"])
    err = capsys.readouterr().err
    assert status == 0 and f"finished {plan['steps']} steps" in err
    assert "continuing the plan of a 1.0-minute time budget" in err
    history = json.loads((folder / "history.json").read_text())
    assert history["budget"] == plan and history["step"] == history["total_steps"] == plan["steps"]
