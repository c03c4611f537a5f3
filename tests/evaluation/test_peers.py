import numpy as np
import pytest

from siamtrack.errors import SiamtrackError
from siamtrack.evaluation.entries import SiamtrackVariant, build_entries
from siamtrack.evaluation.peers import PEER_NAMES, PeerUnavailable, create_peer, installed_opencv


def moving_square(count=8):
    frames = []
    for index in range(count):
        frame = np.full((120, 160, 3), 40, np.uint8)
        frame[40:70, 30 + 3 * index:60 + 3 * index] = (30, 200, 220)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("name", ["csrt", "kcf", "mil"])
def test_classic_peers_track(name):
    peer = create_peer(name)
    frames = moving_square()
    assert peer.init(frames[0], (30, 40, 30, 30)).frame_index == 0
    for frame in frames[1:]:
        result = peer.update(frame)
    assert len(result.box) == 4 and 0.0 <= result.score <= 1.0 and result.frame_index == 7


@pytest.mark.parametrize("name", ["nano", "vit"])
def test_model_peers_need_models(tmp_path, name):
    with pytest.raises(PeerUnavailable, match="--peer-models"):
        create_peer(name)
    with pytest.raises(PeerUnavailable, match="model not found"):
        create_peer(name, tmp_path)


@pytest.mark.parametrize("name", ["nano", "vit"])
def test_model_peers_with_shared_models(name, reference_weights_path):
    peer = create_peer(name, reference_weights_path.parent.parent)
    frames = moving_square()
    peer.init(frames[0], (30, 40, 30, 30))
    assert peer.update(frames[1]).frame_index == 1


def test_one_opencv_installed():
    assert len(installed_opencv()) == 1, installed_opencv()


def test_build_entries_skips_with_reasons(tiny_weights, tmp_path):
    from siamtrack.model.weights import save_weights

    model = save_weights(tiny_weights, tmp_path / "m.pth")
    entries, skipped = build_entries(["mine", "kcf", "nano", "yolo"], [SiamtrackVariant("mine", str(model))], None)
    assert [e.name for e in entries] == ["mine", "kcf"]
    assert "--peer-models" in skipped["nano"] and "unknown tracker 'yolo'" in skipped["yolo"]
    assert set(PEER_NAMES) == {"csrt", "kcf", "mil", "nano", "vit"}


@pytest.mark.parametrize("text", ["noequals", "=m.pth", "name="])
def test_variant_syntax(text):
    with pytest.raises(SiamtrackError, match="NAME=MODEL"):
        SiamtrackVariant.parse(text)
    assert SiamtrackVariant.parse("a=m.pth:siamfc-5s") == SiamtrackVariant("a", "m.pth", "siamfc-5s")
