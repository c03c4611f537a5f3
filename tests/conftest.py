"""Shared fixtures: paths into ../shared (tests that need them skip when it is absent) and a
small randomly initialised network for fast unit tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SIAMTRACK_SHARED", REPO.parent / "shared"))
REFERENCE_WEIGHTS = SHARED / "weights" / "siamfc_reference" / "siamfc_alexnet_original_bnfolded.pth"
FDSIAMFC_WEIGHTS = SHARED / "weights" / "fdsiamfc" / "FDSiamfc_30.pth"
DEV_DATA = SHARED / "data" / "dev"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"needs {path} (the shared benchmark data beside the checkout; "
                    f"set SIAMTRACK_SHARED to its location)")
    return path


@pytest.fixture(scope="session")
def reference_weights_path() -> Path:
    return _require(REFERENCE_WEIGHTS)


@pytest.fixture(scope="session")
def fdsiamfc_path() -> Path:
    return _require(FDSIAMFC_WEIGHTS)


@pytest.fixture(scope="session")
def dev_data() -> Path:
    return _require(DEV_DATA)


def random_network(metadata):
    """A SiameseNet for ``metadata`` with seeded random weights and BatchNorm statistics, and a head
    whose every output layer contributes, in eval mode."""
    import torch

    from siamtrack.network.siamese import SiameseNet

    torch.manual_seed(0)
    network = SiameseNet(metadata)
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
        for name, parameter in network.named_parameters():
            if name.startswith("head.") and name.endswith("out.weight"):
                parameter.normal_(0.0, 0.1)
    return network.eval()


def _tiny(**head):
    """A narrow AlexNet with BatchNorm and random (seeded) weights and BN statistics."""
    from siamtrack.model.metadata import ModelMetadata
    from siamtrack.model.weights import ModelWeights

    metadata = ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=True, **head)
    return ModelWeights(metadata, random_network(metadata).state_dict(), source="tiny test network")


@pytest.fixture(scope="session")
def tiny_weights():
    """A narrow SiamFC AlexNet (response head) with random (seeded) weights and BN statistics."""
    return _tiny()


@pytest.fixture(scope="session")
def tiny_box_weights():
    """The same backbone with an 8-wide box head, random (seeded) weights and BN statistics."""
    return _tiny(head="box", head_width=8)


@pytest.fixture(scope="session")
def reference_tracker_factory(reference_weights_path):
    """Builds Trackers on the reference SiamFC network (loaded once per session)."""
    from siamtrack import Tracker
    from siamtrack.model.weights import load_weights

    weights = load_weights(reference_weights_path)

    def build(**kwargs):
        return Tracker(model=weights, device="cpu", threads=2, **kwargs)

    return build


@pytest.fixture(scope="session")
def clip():
    """A 16-frame 160 x 120 synthetic clip: (frames, boxes)."""
    from siamtrack.app.synthetic import make_clip
    from tests.cli_helpers import CLIP

    return make_clip(CLIP)


@pytest.fixture()
def video(tmp_path, clip):
    """The clip as an .avi file."""
    from siamtrack.io.outputs import VideoSink
    from tests.cli_helpers import CLIP

    frames, _ = clip
    path = tmp_path / "clip.avi"
    with VideoSink(path, 25.0, (CLIP.width, CLIP.height)) as sink:
        for frame in frames:
            sink.write(frame)
    return path


@pytest.fixture()
def model(tmp_path, tiny_weights):
    """The tiny network as a weights file."""
    from siamtrack.model.weights import save_weights

    return save_weights(tiny_weights, tmp_path / "tiny.pth")
