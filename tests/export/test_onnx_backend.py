"""The ONNX Runtime backend: parity with torch, bad files, and the torch-free runtime."""

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from siamtrack import Tracker
from siamtrack.backends import Backend, create_backend
from siamtrack.errors import BackendUnavailableError, WeightsError
from siamtrack.export.onnx_export import SearchGraph, inference_network
from siamtrack.model import contract
from siamtrack.model.builtin import PROJECT_WEIGHTS_DIR, builtin_model_path, default_model_path
from siamtrack.model.weights import load_weights

pytest.importorskip("onnxruntime", reason="the onnx backend needs onnxruntime (pip install 'siamtrack[onnx]')")

REPO = PROJECT_WEIGHTS_DIR.parent
DEFAULT_WEIGHTS = PROJECT_WEIGHTS_DIR / "siamtrack-default.pth"
DEFAULT_ONNX = PROJECT_WEIGHTS_DIR / "siamtrack-default-onnx"


def _crops(seed, count, side):
    return np.random.default_rng(seed).integers(0, 256, (count, side, side, 3), dtype=np.uint8)


@pytest.mark.parametrize("model, onnx_folder", [("tiny", None), ("default", DEFAULT_ONNX)])
@pytest.mark.parametrize("crops, per_crop", [(1, 3), (2, 3), (3, 5), (1, 1), (6, 1)])
def test_responses_match_torch(model, onnx_folder, crops, per_crop, tiny_weights, tiny_export):
    weights, folder = (tiny_weights, tiny_export) if model == "tiny" else (DEFAULT_WEIGHTS, onnx_folder)
    runtime = create_backend("onnx", folder, threads=2)
    reference = create_backend("torch", weights, device="cpu")
    assert isinstance(runtime, Backend) and runtime.name == "onnx" and runtime.device == "cpu"
    exemplars = _crops(crops, crops * per_crop, 127)  # K kernels per search crop
    searches = _crops(crops + 100, crops, 255)
    expected = reference.track(searches, reference.template(exemplars))
    actual = runtime.track(searches, runtime.template(exemplars))
    assert actual.dtype == np.float32 and actual.shape == expected.shape
    relative = np.abs(actual - expected).max() / np.abs(expected).max()
    assert relative < 1e-4


def _first_frames(dev_data, name, count):
    from siamtrack.datasets import load_dataset

    sequence = next(s for s in load_dataset(dev_data) if s.name == name)
    return [cv2.imread(str(p)) for p in sequence.frames[:count]], sequence.boxes[0]


def _track(tracker, frames, box):
    tracker.init(frames[0], box)
    return np.array([tracker.update(frame).box for frame in frames[1:]])


class MatmulTorchBackend:
    """The exported search graph's module, run in torch: the correlation form the engines use."""

    name = "torch-matmul"
    device = "cpu"

    def __init__(self, weights):
        self.network = inference_network(weights)
        self.search = SearchGraph(self.network)
        self.metadata = self.network.metadata

    def template(self, crops):
        with torch.inference_mode():
            return self.network.template(torch.from_numpy(crops))

    def stack(self, kernels):
        return torch.cat(list(kernels))

    def track(self, crops, kernels):
        with torch.inference_mode():
            per_crop = kernels.reshape(len(crops), -1, *kernels.shape[1:])
            return self.search(torch.from_numpy(crops), per_crop).flatten(0, 1).numpy()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Crossing", "Biker"])
@pytest.mark.parametrize("scale_search", ["single", "pyramid"])
def test_v4_boxes_match_torch_on_dev_sequences(dev_data, name, scale_search):
    frames, box = _first_frames(dev_data, name, 60)
    config = {"scale_search": scale_search}
    weights, folder = builtin_model_path("v4", "weights"), builtin_model_path("v4", "onnx")
    torch_boxes = _track(Tracker(model=weights, backend="torch", device="cpu", threads=2, config=config),
                         frames, box)
    onnx_boxes = _track(Tracker(model=folder, backend="onnx", threads=2, config=config), frames, box)
    matmul_boxes = _track(Tracker(backend=MatmulTorchBackend(load_weights(weights)), config=config), frames, box)
    assert np.abs(onnx_boxes - torch_boxes).max() <= 0.5
    assert np.abs(matmul_boxes - torch_boxes).max() <= 0.5


class TwinBackend:
    """Tracks with ``reference`` and runs ``candidate`` on the very same crops and kernels, recording
    the largest difference of their outputs relative to the reference's largest value."""

    name, device = "twin", "cpu"

    def __init__(self, reference, candidate):
        self.reference, self.candidate = reference, candidate
        self.metadata = reference.metadata
        self.differences = []

    def template(self, crops):
        return self.reference.template(crops), self.candidate.template(crops)

    def stack(self, kernels):
        return self.reference.stack([k[0] for k in kernels]), self.candidate.stack([k[1] for k in kernels])

    def track(self, crops, kernels):
        expected, actual = self.reference.track(crops, kernels[0]), self.candidate.track(crops, kernels[1])
        self.differences.append(float(np.abs(np.asarray(actual) - expected).max() / np.abs(expected).max()))
        return expected


@pytest.mark.slow
@pytest.mark.parametrize("name", ["Crossing", "Biker"])
@pytest.mark.parametrize("candidate", ["onnx", "matmul"])
def test_default_model_outputs_match_torch_on_the_crops_of_dev_sequences(dev_data, name, candidate):
    # The default model regresses the box and picks one cell of its map: where two cells score
    # within float noise of each other (Crossing's two pedestrians), the runtimes may pick different
    # ones, and each frame's box places the next crop, so boxes from separate tracks can part by
    # pixels for a while. What the export must reproduce is the network on the same inputs: the
    # tracker's own crops of 60 real frames.
    frames, box = _first_frames(dev_data, name, 60)
    weights = load_weights(default_model_path("weights"))
    runtime = (create_backend("onnx", default_model_path("onnx"), threads=2) if candidate == "onnx"
               else MatmulTorchBackend(weights))
    twin = TwinBackend(create_backend("torch", weights, device="cpu", threads=2), runtime)
    _track(Tracker(backend=twin), frames, box)
    assert len(twin.differences) == len(frames) - 1
    assert max(twin.differences) < 1e-4


def test_default_model_for_the_onnx_backend_is_the_committed_export():
    tracker = Tracker(backend="onnx", threads=1)
    assert tracker.backend_name == "onnx"
    weights = load_weights(default_model_path("weights"))  # the export is of the default weights
    assert tracker.multi_tracker.metadata == replace(weights.metadata, batch_norm=False)


def test_weights_file_given_to_onnx_backend_says_export_first():
    with pytest.raises(WeightsError, match="siamtrack export .* --format onnx"):
        create_backend("onnx", DEFAULT_WEIGHTS)


def test_onnx_backend_refuses_cuda():
    with pytest.raises(BackendUnavailableError, match="runs on the CPU"):
        create_backend("onnx", DEFAULT_ONNX, device="cuda")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_graph_is_a_clear_error(tmp_path, damage):
    folder = shutil.copytree(DEFAULT_ONNX, tmp_path / "model")
    target = folder / "search.onnx"
    content = target.read_bytes()
    target.write_bytes({"garbage": b"not an onnx file at all" * 10, "truncated": content[:len(content) // 2],
                        "empty": b""}[damage])
    with pytest.raises(WeightsError, match="checksum differs"):
        create_backend("onnx", folder)
    contract.write_checksums(folder)  # damaged before its checksums were taken: ONNX Runtime says so
    with pytest.raises(WeightsError, match="search.onnx cannot be loaded by ONNX Runtime"):
        create_backend("onnx", folder)


def test_graphs_from_different_weights_are_refused(tmp_path, tiny_export):
    folder = shutil.copytree(DEFAULT_ONNX, tmp_path / "model")
    shutil.copy(tiny_export / "search.onnx", folder / "search.onnx")
    contract.write_checksums(folder)  # each graph intact, but the two do not belong together
    with pytest.raises(WeightsError, match="come from different weights"):
        create_backend("onnx", folder)


def test_swapped_graphs_are_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(DEFAULT_ONNX / "search.onnx", folder / "template.onnx")
    shutil.copy(DEFAULT_ONNX / "template.onnx", folder / "search.onnx")
    contract.write_checksums(folder)
    with pytest.raises(WeightsError, match="holds the 'search' graph, expected 'template'"):
        create_backend("onnx", folder)


def test_foreign_onnx_model_is_refused(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    nano = REPO.parent / "shared" / "weights" / "nanotrack_v2"
    sources = sorted(nano.glob("*.onnx")) if nano.is_dir() else []
    if len(sources) < 2:
        pytest.skip("needs NanoTrack's ONNX files in ../shared/weights/nanotrack_v2")
    shutil.copy(sources[0], folder / "template.onnx")
    shutil.copy(sources[1], folder / "search.onnx")
    contract.write_checksums(folder)
    with pytest.raises(WeightsError, match="not a siamtrack ONNX graph"):
        create_backend("onnx", folder)


def test_missing_export_folder(tmp_path):
    with pytest.raises(WeightsError, match="export"):
        create_backend("onnx", tmp_path / "nowhere" / "template.onnx")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "template.onnx").write_bytes(b"x")
    with pytest.raises(WeightsError, match="missing .*search.onnx"):
        create_backend("onnx", tmp_path / "half")


NO_TORCH = textwrap.dedent("""
    import importlib.abc, sys

    class NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by this test)", name=name)
            return None

    sys.meta_path.insert(0, NoTorch())
""")


def test_runtime_works_without_torch(tmp_path):
    """Tracker + ONNX Runtime in a process where importing torch fails, via the API and the CLI."""
    script = NO_TORCH + textwrap.dedent("""
        import numpy as np
        from siamtrack import Tracker
        from siamtrack.backends import choose_backend
        from siamtrack.app.synthetic import ClipSpec, make_clip

        assert choose_backend() == "onnx", choose_backend()
        frames, truth = make_clip(ClipSpec(frames=20, width=320, height=240, object_size=(48, 40), seed=3))
        tracker = Tracker()  # auto: no torch here, so ONNX Runtime with the committed export
        assert tracker.backend_name == "onnx"
        tracker.init(frames[0], tuple(truth[0]))
        boxes = [tracker.update(frame).box for frame in frames[1:]]
        assert all(np.isfinite(boxes).all(axis=1))
        assert "torch" not in sys.modules
        from siamtrack.cli import main
        code = main(["demo", "--output", "-", "--quiet"])
        assert code == 0, code
        assert "torch" not in sys.modules
        print("ok")
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_torch_only_commands_say_what_to_install_without_torch(tmp_path):
    script = NO_TORCH + textwrap.dedent("""
        from siamtrack.cli import main
        raise SystemExit(main(["weights", "info", "x.pth"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 2
    assert "needs the Python package 'torch'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_default_model_by_name_tracks_the_demo_clip_in_single_pass(backend):
    """The shipped model, named, in the one-pass configuration."""
    from siamtrack.app.demo import run_demo

    result = run_demo(None, model="default", backend=backend, device="cpu", config="single-pass",
                      log=lambda line: None)
    assert result.mean_iou > 0.6


def test_built_in_backends_give_their_kernels_back_as_numbers(tiny_weights, tiny_export):
    from siamtrack.backends import KernelBackend

    crops = np.random.default_rng(0).integers(0, 256, (2, 127, 127, 3), dtype=np.uint8)
    torch_backend = create_backend("torch", tiny_weights, device="cpu")
    onnx_backend = create_backend("onnx", tiny_export)
    for backend in (torch_backend, onnx_backend):
        assert isinstance(backend, KernelBackend)
        values = backend.kernel_values(backend.template(crops))
        assert isinstance(values, np.ndarray) and values.dtype == np.float32 and values.shape[0] == 2
    np.testing.assert_allclose(onnx_backend.kernel_values(onnx_backend.template(crops)),
                               torch_backend.kernel_values(torch_backend.template(crops)), rtol=1e-4, atol=1e-4)
