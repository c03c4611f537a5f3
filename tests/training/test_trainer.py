"""The training loop on tiny generated data: runs, logs, resumes, exports a model the tracker loads."""

import csv

import cv2
import numpy as np
import pytest
import torch

from siamtrack.datasets import load_dataset
from siamtrack.errors import ConfigError
from siamtrack.training.config import TrainConfig, load_train_config, parse_override
from siamtrack.training.data import PairDataset
from siamtrack.training.trainer import (
    CHECKPOINT_NAME,
    LOG_NAME,
    MODEL_NAME,
    build_network,
    load_checkpoint,
    pair_loader,
    save_checkpoint,
    train,
)


def make_sequences(root, names=("A", "B")):
    rng = np.random.default_rng(0)
    for name in names:
        folder = root / name
        (folder / "img").mkdir(parents=True)
        rows = []
        for index in range(5):
            image = rng.integers(0, 80, (120, 160, 3), dtype=np.uint8)
            image[40:70, 50 + 2 * index:90 + 2 * index] = (200, 120, 40)
            cv2.imwrite(str(folder / "img" / f"{index + 1:04d}.jpg"), image)
            rows.append(f"{51 + 2 * index},41,40,30")
        (folder / "groundtruth_rect.txt").write_text("\n".join(rows) + "\n")
    return root


def tiny_config(root, **changes):
    values = dict(data=[str(root)], holdout=["B"], architecture="alexnet", widths=[8, 16, 16, 16, 8],
                  pretrained="none", epochs=2, pairs_per_epoch=4, batch_size=2, validation_pairs=2, workers=0)
    values.update(changes)
    return TrainConfig.from_dict(values)


def test_loader_workers_serve_the_epoch_set_before_each_epoch(tmp_path):
    # The bug this guards: persistent workers kept the dataset copy of the first epoch, so every
    # epoch trained on the same pairs (train loss fell, validation loss stalled).
    dataset = PairDataset(load_dataset(make_sequences(tmp_path)), [], pairs_per_epoch=4, seed=5)
    loader = pair_loader(dataset, batch_size=2, workers=2)
    served = []
    for epoch in range(2):
        dataset.set_epoch(epoch)
        served.append(torch.cat([searches for _, searches, _ in loader]))
        expected = torch.stack([dataset[index][1] for index in range(len(dataset))])
        assert torch.equal(served[-1], expected)
    assert not torch.equal(served[0], served[1])


def test_config_from_preset_and_overrides():
    config = load_train_config("lite0", ["epochs=3", "holdout=[]", 'data=["x"]'])
    assert config.epochs == 3 and config.holdout == () and config.data == ("x",)
    assert config.architecture == "efficientnet-lite0-s8"
    with pytest.raises(ConfigError, match="unknown training config"):
        load_train_config("lite0", ["epoch=3"])
    with pytest.raises(ConfigError, match="cannot use"):
        load_train_config(None, ["epochs=many"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("epochs")
    with pytest.raises(ConfigError, match="ImageNet"):
        TrainConfig(architecture="alexnet", widths=(8, 16, 16, 16, 8))
    with pytest.raises(ConfigError, match="box_teacher_weight"):  # NanoTrack's boxes need its folder
        load_train_config("boxhead", ["box_teacher_weight=1", "class_teacher=", "class_teacher_weight=0"])
    with pytest.raises(ConfigError, match="box_teacher_weight"):  # and a box head to learn them
        load_train_config("lite0", ["box_teacher_weight=1", "class_teacher=x"])


def test_checkpoint_round_trip_restores_identical_state(tmp_path):
    config = tiny_config(tmp_path)
    network = build_network(config)
    optimizer = torch.optim.SGD(network.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, 0.5)
    loss = sum(p.sum() for p in network.parameters())
    loss.backward()
    optimizer.step()
    scheduler.step()
    save_checkpoint(tmp_path / "c.pth", network, optimizer, scheduler, 3, config)
    other = build_network(config)
    other_optimizer = torch.optim.SGD(other.parameters(), lr=0.1, momentum=0.9)
    other_scheduler = torch.optim.lr_scheduler.ExponentialLR(other_optimizer, 0.5)
    assert load_checkpoint(tmp_path / "c.pth", other, other_optimizer, other_scheduler, config) == 3
    for a, b in zip(network.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    assert other_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    first = next(iter(optimizer.state.values()))["momentum_buffer"]
    assert torch.equal(first, next(iter(other_optimizer.state.values()))["momentum_buffer"])
    with pytest.raises(ConfigError, match="other settings"):
        load_checkpoint(tmp_path / "c.pth", other, other_optimizer, other_scheduler, tiny_config(tmp_path, seed=9))
    # A checkpoint written when the config said "colour" resumes under today's "color".
    state = torch.load(tmp_path / "c.pth", weights_only=True)
    state["config"]["colour"] = state["config"].pop("color")
    torch.save(state, tmp_path / "old.pth")
    assert load_checkpoint(tmp_path / "old.pth", other, other_optimizer, other_scheduler, config) == 3


def test_train_logs_resumes_and_exports(tmp_path):
    from siamtrack import Tracker

    data = make_sequences(tmp_path / "data")
    out = tmp_path / "run"
    model = train(tiny_config(data, epochs=1), out, show_progress=False, log=lambda m: None)
    rows = list(csv.DictReader((out / LOG_NAME).open()))
    assert [r["epoch"] for r in rows] == ["1"] and float(rows[0]["validation_loss"]) > 0
    # Same settings but more epochs would be refused; resume with the same config continues.
    with pytest.raises(ConfigError):
        train(tiny_config(data, epochs=2), out, show_progress=False, log=lambda m: None)
    messages = []
    train(tiny_config(data, epochs=1), out, show_progress=False, log=messages.append)
    assert any("resuming" in m for m in messages)
    assert (out / CHECKPOINT_NAME).is_file() and model == out / MODEL_NAME
    tracker = Tracker(model=model, device="cpu")
    frame = cv2.imread(str(data / "A" / "img" / "0001.jpg"))
    tracker.init(frame, (50, 40, 40, 30))
    assert np.isfinite(tracker.update(frame).box).all()


def test_interrupt_writes_the_checkpoint(tmp_path, monkeypatch):
    from siamtrack.training import trainer

    data = make_sequences(tmp_path / "data")
    calls = {"n": 0}
    real_step = trainer.train_step

    def step_then_interrupt(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer, "train_step", step_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(data), tmp_path / "run", show_progress=False, log=lambda m: None)
    state = torch.load(tmp_path / "run" / CHECKPOINT_NAME, weights_only=True)
    assert state["next_epoch"] == 0  # the interrupted epoch restarts, with the weights reached


def test_start_from_fine_tunes_a_trained_model(tmp_path):
    from siamtrack.model.weights import load_weights

    data = make_sequences(tmp_path / "data")
    first = train(tiny_config(data, epochs=1), tmp_path / "first", show_progress=False, log=lambda m: None)
    config = tiny_config(data, epochs=1, start_from=str(first), learning_rate=1e-9, final_learning_rate=1e-9)
    start = build_network(config).state_dict()
    trained = load_weights(first)
    assert all(torch.equal(start[name], tensor) for name, tensor in trained.state_dict.items())
    tuned = load_weights(train(config, tmp_path / "second", show_progress=False, log=lambda m: None))
    assert "fine-tuned" in tuned.metadata.provenance["initial_weights"]
    with pytest.raises(ConfigError, match="another network"):
        build_network(tiny_config(data, widths=[8, 16, 16, 16, 16], start_from=str(first)))
    with pytest.raises(ConfigError, match="pretrained=none"):
        TrainConfig(start_from=str(first))


def _final_weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def test_a_resumed_run_trains_exactly_as_an_uninterrupted_one(tmp_path, monkeypatch):
    # Interrupted after two of four batches, then resumed: the same pairs in the same order from
    # the same weights, optimizer state and random state, so the same network bit for bit.
    from siamtrack.training import trainer

    data = make_sequences(tmp_path / "data")
    config = tiny_config(data, epochs=2, pairs_per_epoch=8, head="box", head_width=8)
    straight = train(config, tmp_path / "straight", show_progress=False, log=lambda m: None)
    calls = {"n": 0}
    real_step = trainer.train_step

    def interrupt_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(trainer, "train_step", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "resumed", show_progress=False, log=lambda m: None)
    state = torch.load(tmp_path / "resumed" / CHECKPOINT_NAME, weights_only=True)
    assert (state["next_epoch"], state["next_batch"]) == (0, 2)
    monkeypatch.setattr(trainer, "train_step", real_step)
    messages = []
    resumed = train(config, tmp_path / "resumed", show_progress=False, log=messages.append)
    assert any("epoch 1 of 2, batch 3 of 4" in m for m in messages)
    expected, got = _final_weights(straight), _final_weights(resumed)
    assert all(torch.equal(expected[name], got[name]) for name in expected)
    straight_log = (tmp_path / "straight" / LOG_NAME).read_text().splitlines()
    resumed_log = (tmp_path / "resumed" / LOG_NAME).read_text().splitlines()
    # Losses, rate and learning rate are the same; only the timing columns differ.
    assert [row.split(",")[:3] for row in straight_log] == [row.split(",")[:3] for row in resumed_log]
    assert "resumed at epoch 1 of 2, batch 3 of 4" in (tmp_path / "resumed" / "progress.log").read_text()


def test_sigterm_finishes_the_batch_then_checkpoints_and_stops(tmp_path, monkeypatch):
    import os
    import signal

    from siamtrack.training import trainer

    class Stopped(Exception):
        pass

    def stopped(signum, frame):
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        data = make_sequences(tmp_path / "data")
        config = tiny_config(data, epochs=1, pairs_per_epoch=8)
        calls = {"n": 0}
        real_step = trainer.train_step

        def terminated_during_second(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of the step
            return real_step(*args, **kwargs)

        monkeypatch.setattr(trainer, "train_step", terminated_during_second)
        with pytest.raises(Stopped):
            train(config, tmp_path / "run", show_progress=False, log=lambda m: None)
        assert calls["n"] == 2  # the step in flight finished; no further batch started
        state = torch.load(tmp_path / "run" / CHECKPOINT_NAME, weights_only=True)
        assert (state["next_epoch"], state["next_batch"]) == (0, 2)
        assert signal.getsignal(signal.SIGTERM) is stopped  # the trainer's handler is gone again
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_box_network_starts_from_a_response_networks_backbone(tmp_path):
    data = make_sequences(tmp_path / "data")
    first = train(tiny_config(data, epochs=1), tmp_path / "first", show_progress=False, log=lambda m: None)
    network = build_network(tiny_config(data, start_from=str(first), head="box", head_width=8))
    trained = load_weights_file(first)
    assert all(torch.equal(network.state_dict()[name], tensor) for name, tensor in trained.items())
    assert any(name.startswith("head.") for name in network.state_dict())
    with pytest.raises(ConfigError, match="another network"):  # the other way round is refused
        box = train(tiny_config(data, epochs=1, head="box", head_width=8), tmp_path / "box", show_progress=False,
                    log=lambda m: None)
        build_network(tiny_config(data, start_from=str(box)))


def load_weights_file(path):
    from siamtrack.model.weights import load_weights

    return load_weights(path).state_dict


@pytest.mark.slow
def test_sigterm_to_the_whole_process_group_stops_training_cleanly(tmp_path):
    """A service manager stops the main process and its loader workers alike: the run must still
    finish its batch, checkpoint and exit 143, without a traceback."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    data = make_sequences(tmp_path / "data", names=("A", "B", "C"))
    settings = tiny_config(data, epochs=50, pairs_per_epoch=64, workers=1).to_dict()
    preset = tmp_path / "preset.json"
    preset.write_text(json.dumps(settings))
    process = subprocess.Popen([sys.executable, "-m", "siamtrack.cli", "train", "--preset", str(preset),
                                "--output", str(tmp_path / "run"), "--quiet"], stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "run" / "epochs" / "1.pth").is_file():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "stopped by signal 15" in (tmp_path / "run" / "progress.log").read_text()


def test_a_stop_signal_that_also_ends_a_loader_worker_stops_the_run_as_asked(tmp_path, monkeypatch):
    """Ctrl-C or SIGTERM to a process group can reach a loader worker that has just started, before
    it ignores them, and end it; the run must still stop as asked (checkpoint, then the signal's own
    ending), not fail with PyTorch's "worker killed" error."""
    import os
    import signal

    data = make_sequences(tmp_path / "data")
    main_process = os.getpid()
    serve_pair = PairDataset.__getitem__

    def stopped_while_starting(self, index):
        if os.getpid() != main_process and self.epoch == 1:  # the new worker of epoch 2
            os.kill(main_process, signal.SIGINT)
            os.kill(os.getpid(), signal.SIGKILL)
        return serve_pair(self, index)

    monkeypatch.setattr(PairDataset, "__getitem__", stopped_while_starting)
    config = tiny_config(data, epochs=3, workers=1)
    # Ctrl-C handling on, as from a terminal (a suite run as a background job starts with SIGINT ignored).
    ignored_or_not = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            train(config, tmp_path / "run", show_progress=False, log=lambda m: None)
    finally:
        signal.signal(signal.SIGINT, ignored_or_not)
    assert "stopped by signal 2 at epoch 2, batch 0" in (tmp_path / "run" / "progress.log").read_text()
    monkeypatch.setattr(PairDataset, "__getitem__", serve_pair)
    assert train(config, tmp_path / "run", show_progress=False, log=lambda m: None).is_file()  # resumes


def test_the_model_file_names_only_the_nanotrack_maps_it_was_trained_on():
    from siamtrack.training.trainer import nanotrack_provenance

    classes = nanotrack_provenance(load_train_config("boxhead"))
    assert "classification maps (weight 1.0)" in classes and "boxes" not in classes
    boxes = nanotrack_provenance(load_train_config("boxhead", ["class_teacher_weight=0", "box_teacher_weight=3"]))
    assert "its boxes (weight 3.0) were" in boxes and "classification" not in boxes
    both = nanotrack_provenance(load_train_config("boxhead", ["box_teacher_weight=3"]))
    assert "classification maps (weight 1.0) and boxes (weight 3.0)" in both
