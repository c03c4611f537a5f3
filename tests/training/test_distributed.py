"""Distributed training on CPU: two gloo processes, as torchrun would start them."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from siamtrack.training.objective import train_step
from siamtrack.training.trainer import MODEL_NAME, build_network, train
from tests.training.test_step import fixed_batch
from tests.training.test_trainer import make_sequences, tiny_config


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _join(rank, world, port):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))


def ddp_step(rank, world, port, data_root, result_dir):
    _join(rank, world, port)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.manual_seed(0)  # same initial weights on both ranks
    network = build_network(tiny_config(data_root))
    model = torch.nn.parallel.DistributedDataParallel(network)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    exemplars, searches, offsets = fixed_batch(4)
    half = slice(2 * rank, 2 * rank + 2)  # each rank its own half of the batch
    train_step(model, optimizer, (exemplars[half], searches[half], offsets[half]))
    # Parameters only: BatchNorm running statistics are per-rank buffers, re-broadcast from rank 0
    # at every forward.
    parameters = {k: v.detach().clone() for k, v in network.named_parameters()}
    torch.save(parameters, os.path.join(result_dir, f"rank{rank}.pth"))
    dist.destroy_process_group()


def ddp_train(rank, world, port, data_root, out_dir):
    _join(rank, world, port)
    train(tiny_config(data_root, epochs=1, pairs_per_epoch=4, batch_size=1), out_dir, show_progress=False,
          log=lambda message: None)


@pytest.fixture()
def data(tmp_path):
    return make_sequences(tmp_path / "data")


def test_one_ddp_step_keeps_ranks_identical(tmp_path, data):
    mp.spawn(ddp_step, args=(2, free_port(), data, str(tmp_path)), nprocs=2, join=True)
    first = torch.load(tmp_path / "rank0.pth", weights_only=True)
    second = torch.load(tmp_path / "rank1.pth", weights_only=True)
    torch.manual_seed(0)
    initial = dict(build_network(tiny_config(data)).named_parameters())
    changed = False
    for key in first:
        assert torch.equal(first[key], second[key]), key  # gradients were averaged across ranks
        changed |= not torch.equal(first[key], initial[key])
    assert changed


@pytest.mark.slow
def test_train_runs_under_two_processes(tmp_path, data):
    mp.spawn(ddp_train, args=(2, free_port(), data, tmp_path / "run"), nprocs=2, join=True)
    assert (tmp_path / "run" / MODEL_NAME).is_file() and (tmp_path / "run" / "log.csv").is_file()
