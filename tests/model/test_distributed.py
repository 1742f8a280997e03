"""The trainer under DistributedDataParallel: 2 CPU processes, gloo backend, a tiny run."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import torch.multiprocessing as mp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_synth import make_project, tiny_config  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, image_dir: str, save_dir: str, out: str) -> None:
    import os
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(world), LOCAL_RANK=str(rank))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from segstudio.core.project import Project
    from segstudio.model.training.train import TrainConfig, train
    project = Project(image_dir, save_dir)
    seen = []
    result = train(project, TrainConfig(model_config=tiny_config(), size=64, batch=2, steps=3, lr=1e-3,
                                        device="cpu"), on_epoch=seen.append)
    Path(out, f"rank{rank}.json").write_text(json.dumps(
        {"status": result.status, "message": result.message, "epochs": len(seen),
         "miou": [h.val_miou for h in result.history]}))


@pytest.mark.slow
def test_two_process_gloo(tmp_path):
    image_dir, save_dir = make_project(tmp_path, count=6)
    mp.spawn(_worker, args=(2, _free_port(), str(image_dir), str(save_dir), str(tmp_path)), nprocs=2)
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert r0["status"] == r1["status"] == "finished", (r0, r1)
    assert r0["miou"] == r1["miou"]  # confusion matrices were all-reduced: every rank sees the same
    assert r0["epochs"] >= 1 and r1["epochs"] == 0  # only rank 0 reports
    assert (save_dir / "models" / "model" / "model.safetensors").is_file()
