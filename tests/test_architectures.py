"""Adding a backbone is one entry in `siamtrack.model.architectures`: metadata, training config,
trainer, network builder and torch backend all read it."""

from dataclasses import replace

import numpy as np
import pytest

from siamtrack.errors import ConfigError, WeightsError
from siamtrack.model.architectures import ARCHITECTURES, trainable_architectures
from siamtrack.model.metadata import ModelMetadata

torch = pytest.importorskip("torch")


def test_a_new_entry_is_built_trained_and_run(monkeypatch):
    from siamtrack.backends.torch_backend import TorchBackend
    from siamtrack.model.weights import ModelWeights
    from siamtrack.training.config import TrainConfig
    from siamtrack.training.trainer import build_network

    with pytest.raises(ConfigError, match="unknown architecture 'alexnet-small'"):
        TrainConfig(architecture="alexnet-small", widths=(8, 16, 16, 16, 8), pretrained="none")
    monkeypatch.setitem(ARCHITECTURES, "alexnet-small", replace(ARCHITECTURES["alexnet"], cpu_graph="frozen"))
    assert "alexnet-small" in trainable_architectures()
    network = build_network(TrainConfig(architecture="alexnet-small", widths=(8, 16, 16, 16, 8), pretrained="none"))
    assert network.metadata.architecture == "alexnet-small" and network.metadata.bn_eps == 1e-5
    backend = TorchBackend(ModelWeights(network.metadata, network.state_dict()), device="cpu")
    assert backend.cpu_graph == "frozen"  # the entry's choice, not a list elsewhere
    crops = np.zeros((1, 255, 255, 3), np.uint8)
    kernels = backend.template(np.zeros((1, 127, 127, 3), np.uint8))
    assert backend.track(crops, kernels).shape[0] == 1


def test_an_architecture_without_an_entry_is_refused_when_read():
    with pytest.raises(WeightsError, match="unknown architecture 'vgg'"):
        ModelMetadata(architecture="vgg", widths=(8,), batch_norm=True)


def test_graphs_that_are_only_run_are_not_trainable():
    from siamtrack.training.config import TrainConfig

    assert "nanotrack-v2" not in trainable_architectures()
    with pytest.raises(ConfigError, match="unknown architecture"):
        TrainConfig(architecture="nanotrack-v2", pretrained="none")
    with pytest.raises(ValueError, match="run from its own graphs"):
        published = ModelMetadata(architecture="nanotrack-v2", widths=(48,), batch_norm=False, head="nanotrack",
                                  head_width=48)
        ARCHITECTURES["nanotrack-v2"].build_backbone(published)


def test_a_head_the_backbone_does_not_train_with_is_refused():
    from siamtrack.training.config import TrainConfig

    with pytest.raises(ConfigError, match="dense-s16 backbone trains with the nanotrack head"):
        TrainConfig(architecture="dense-s16", widths=(16, 32, 64, 128, 48), head="box", head_width=32,
                    pretrained="none")
