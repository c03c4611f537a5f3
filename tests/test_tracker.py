"""The public Tracker API: edge cases, with a scripted fake backend and a tiny real network."""


import numpy as np
import pytest

from siamtrack import Tracker, TrackerConfig, TrackResult
from siamtrack.errors import ConfigError, InputError, NotInitializedError, WeightsError
from siamtrack.model import builtin as models
from siamtrack.model.metadata import ModelMetadata

META = ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=False)


def peak_map(row=8.0, col=8.0, height=1.0):
    rows, cols = np.mgrid[:17, :17]
    return (height * np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / 2.0)).astype(np.float32)


class ScriptedBackend:
    """Returns responses chosen by a function of the number of maps asked for (S per frame).

    Kernels are arrays with one entry per exemplar crop, so each call asks for crops x kernels
    per crop maps. The call right after ``template`` is the tracker matching a new target's
    kernels in their own frame (confidence reference, kernel gains): it gets ``respond(1)``'s
    map for every kernel, so scripts need only describe the frames. ``calls`` records the number
    of search crops of each call.
    """

    name = "scripted"
    device = "cpu"
    metadata = META

    def __init__(self, respond):
        self.respond = respond
        self.calls = []
        self.calibrating = False

    def template(self, crops):
        assert crops.shape[1:] == (127, 127, 3) and crops.dtype == np.uint8
        self.calibrating = True
        return np.zeros(len(crops))

    def stack(self, kernels):
        return np.concatenate(kernels)

    def track(self, crops, kernels):
        assert crops.shape[1:] == (255, 255, 3) and len(kernels) % len(crops) == 0
        self.calls.append(crops.shape[0])
        if self.calibrating:
            self.calibrating = False
            return np.stack([self.respond(1)[0]] * len(kernels))
        return self.respond(len(kernels))


def frame(height=240, width=320, channels=3, value=90):
    shape = (height, width) if channels is None else (height, width, channels)
    image = np.full(shape, value, np.uint8)
    image[100:140, 140:180] = 200
    return image


def test_init_then_update_results():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)), config={"window_influence": 0.0})
    first = tracker.init(frame(), (140, 100, 40, 40))
    assert first == TrackResult((140.0, 100.0, 40.0, 40.0), 1.0, False, 0)
    second = tracker.update(frame())
    assert second.frame_index == 1 and not second.lost
    assert second.box == pytest.approx((140, 100, 40, 40), abs=0.3)
    assert 0.0 <= second.score <= 1.0
    assert tracker.update(frame()).frame_index == 2
    assert tracker.backend_name == "scripted" and tracker.initialized


def test_constant_offset_moves_box_by_stride_times_crop_scale():
    # The peak one cell right of center at the middle scale: 8 search-crop pixels, which is
    # 8 * search_side / 255 frame pixels.
    def respond(n):
        return np.stack([peak_map(8, 9, 0.1)] * (n // 2) + [peak_map(8, 9)] + [peak_map(8, 9, 0.1)] * (n // 2))

    tracker = Tracker(backend=ScriptedBackend(respond), config={"window_influence": 0.0})
    w = h = 40.0
    tracker.init(frame(), (140, 100, w, h))
    search_side = np.sqrt((w + 40) * (h + 40)) * 255 / 127
    result = tracker.update(frame())
    assert result.box[0] - 140 == pytest.approx(8 * search_side / 255, abs=0.35)
    assert result.box[1] == pytest.approx(100, abs=0.35)
    assert result.box[2:] == (w, h)


@pytest.mark.parametrize("winner, limit", [(2, 5.0), (0, 0.2)])
def test_scale_update_is_damped_and_clamped(winner, limit):
    def respond(n):
        maps = [peak_map(height=0.5)] * n
        if n > 1:
            maps[winner] = peak_map(height=1.0)
        return np.stack(maps)

    config = TrackerConfig()
    tracker = Tracker(backend=ScriptedBackend(respond), config=config)
    tracker.init(frame(), (150, 110, 20, 20))
    step = config.scale_step if winner == 2 else 1 / config.scale_step
    first = tracker.update(frame())
    assert first.box[2] == pytest.approx(20 * ((1 - config.scale_lr) + config.scale_lr * step))
    for _ in range(400):
        last = tracker.update(frame())
    assert last.box[2] == pytest.approx(20 * limit) and last.box[3] == pytest.approx(20 * limit)


def test_low_scores_set_lost_after_patience():
    strong, weak = peak_map(height=10.0), peak_map(height=0.5)
    script = {"strong": True}
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([strong if script["strong"] else weak] * n)),
                      config={"lost_patience": 3})
    tracker.init(frame(), (140, 100, 40, 40))
    assert tracker.update(frame()).score == pytest.approx(1.0, abs=1e-3)
    script["strong"] = False
    results = [tracker.update(frame()) for _ in range(4)]
    assert [r.lost for r in results] == [False, False, True, True]
    assert all(r.score == pytest.approx(0.05, abs=0.01) for r in results)
    script["strong"] = True
    assert not tracker.update(frame()).lost


def test_update_before_init_and_after_reset():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    with pytest.raises(NotInitializedError):
        tracker.update(frame())
    tracker.init(frame(), (140, 100, 40, 40))
    tracker.reset()
    assert not tracker.initialized
    with pytest.raises(NotInitializedError):
        tracker.update(frame())


@pytest.mark.parametrize("channels", [None, 1, 4])
def test_grayscale_and_bgra_frames(channels):
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n))
    tracker = Tracker(backend=backend)
    tracker.init(frame(channels=channels), (140, 100, 40, 40))
    assert tracker.update(frame(channels=channels)).frame_index == 1


def test_frame_size_change_is_an_error():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    tracker.init(frame(), (140, 100, 40, 40))
    with pytest.raises(InputError, match="frame size changed from 320x240 to 321x240"):
        tracker.update(frame(width=321))


@pytest.mark.parametrize("box, message", [
    ((400, 10, 20, 20), "outside"), ((10, 10, 0, 20), "positive"), ((10, 10, -5, 20), "positive"),
    ((1, 2, 3), "four numbers"),
])
def test_bad_init_boxes(box, message):
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    with pytest.raises(InputError, match=message):
        tracker.init(frame(), box)


def test_box_partly_outside_is_tracked():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    assert tracker.init(frame(), (-10, -10, 40, 40)).box == (-10, -10, 40, 40)
    result = tracker.update(frame())
    assert np.isfinite(result.box).all()


def test_center_stays_inside_the_frame():
    # Always pushed right: the center stops at the last column.
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map(8, 16)] * n)),
                      config={"window_influence": 0.0})
    tracker.init(frame(), (280, 100, 30, 30))
    for _ in range(20):
        result = tracker.update(frame())
    assert result.center[0] == pytest.approx(319.0)


def test_config_forms():
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n))
    assert Tracker(backend=backend, config="siamfc-5s").config.scale_count == 5
    assert Tracker(backend=backend, config={"scale_lr": 0.3}).config.scale_lr == 0.3
    with pytest.raises(ConfigError, match="unknown"):
        Tracker(backend=backend, config={"scale_rate": 0.3})
    with pytest.raises(ConfigError):
        Tracker(backend=backend, config=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown tracker config key"):
        Tracker(backend=backend, config={"instance_size": 303})  # crop sizes are the model's
    for misplaced in ({"model": "x.pth"}, {"device": "cpu"}, {"threads": 2}):
        with pytest.raises(ConfigError, match="already holds its model, device and threads"):
            Tracker(backend=backend, **misplaced)


def test_five_scale_pyramid_uses_five_crops():
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n))
    tracker = Tracker(backend=backend, config="siamfc-5s")
    tracker.init(frame(), (140, 100, 40, 40))
    tracker.update(frame())
    assert backend.calls == [1, 5]


def test_single_pass_uses_one_crop_per_frame_whatever_the_scales():
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n))
    tracker = Tracker(backend=backend, config={"scale_search": "single", "scale_count": 5})
    tracker.init(frame(), (140, 100, 40, 40))  # kernels matched at their own scales: 5 crops, once
    tracker.update(frame())
    tracker.update(frame())
    assert backend.calls == [5, 1, 1]


def test_single_pass_falls_back_to_the_pyramid_after_an_uncertain_frame():
    frames = iter([np.zeros((3, 17, 17), np.float32),  # update 1: nothing matches -> score 0
                   np.stack([peak_map()] * 9),  # update 2: the pyramid (3 crops x 3 kernels), confident
                   np.stack([peak_map()] * 3)])  # update 3: confident again -> one crop
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n) if n == 1 else next(frames))
    tracker = Tracker(backend=backend, config={"scale_search": "single", "pyramid_below": 0.5})
    tracker.init(frame(), (140, 100, 40, 40))
    assert tracker.update(frame()).score == 0.0
    assert tracker.update(frame()).score > 0.5
    tracker.update(frame())
    assert backend.calls == [3, 1, 3, 1]


def test_pyramid_fallback_reads_each_crop_with_the_middle_kernel():
    # Map m is crop m // 3 (scales 1/1.0375, 1, 1.0375) matched with kernel m % 3. The larger
    # crop's middle-kernel map is the strongest of the middle-kernel maps; a side kernel of the
    # smaller crop is stronger still, but a pyramid frame reads only the middle kernel.
    pyramid = np.stack([peak_map(height=1.0)] * 9)
    pyramid[0] = peak_map(height=5.0)  # crop 0 (smaller scale), kernel 0: must be ignored
    pyramid[7] = peak_map(height=1.2)  # crop 2 (larger scale), middle kernel
    weak = np.stack([peak_map(height=0.01)] * 3)  # update 1: keeps the size (middle scale), score 0.01
    frames = iter([weak, pyramid])
    backend = ScriptedBackend(lambda n: np.stack([peak_map()] * n) if n == 1 else next(frames))
    tracker = Tracker(backend=backend, config={"scale_search": "single", "pyramid_below": 0.5})
    tracker.init(frame(), (140, 100, 40, 40))
    tracker.update(frame())
    grown = tracker.update(frame())
    assert grown.box[2] == pytest.approx(40 * (1 - 0.59 + 0.59 * 1.0375), rel=1e-3)


def test_pyramid_fallback_is_refused_on_the_tensor_pipeline(tiny_weights):
    with pytest.raises(ConfigError, match="opencv pipeline only"):
        Tracker(model=tiny_weights, backend="torch", device="cpu", pipeline="tensor",
                config={"scale_search": "single", "pyramid_below": 0.5})


@pytest.mark.parametrize("values", [{"pyramid_below": 0.5}, {"scale_search": "single", "pyramid_below": 1.5}])
def test_pyramid_below_needs_single_pass_and_a_confidence(values):
    with pytest.raises(ConfigError, match="pyramid_below"):
        TrackerConfig.from_dict(values)


class GainBackend(ScriptedBackend):
    """Kernel k matches the target at its own scale with strength ``strengths[k]``."""

    def __init__(self, strengths):
        super().__init__(lambda n: np.stack([peak_map()] * n))
        self.strengths = strengths

    def track(self, crops, kernels):
        maps = super().track(crops, kernels)
        return maps * np.tile(self.strengths, len(maps) // len(self.strengths))[:, None, None]


def test_kernel_gains_cancel_a_kernel_that_matches_more_strongly():
    # Kernel 2 responds 10% more strongly to everything: uncalibrated, it would win the scale
    # choice every frame (10% > the 2.5% scale penalty) and grow the box; calibrated, it does not.
    tracker = Tracker(backend=GainBackend(np.array([1.0, 1.0, 1.1])), config="single-pass")
    tracker.init(frame(), (140, 100, 40, 40))
    for _ in range(5):
        result = tracker.update(frame())
    assert result.box[2:] == pytest.approx((40, 40))


def test_missing_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setattr(models, "PROJECT_WEIGHTS_DIR", tmp_path)
    monkeypatch.setattr(models, "INSTALLED_WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="no default model.*model=PATH"):
        Tracker()


def test_model_from_environment(monkeypatch, tmp_path, tiny_weights):
    from siamtrack.model.weights import save_weights

    save_weights(tiny_weights, tmp_path / "m.pth")
    monkeypatch.setenv(models.MODEL_ENV_VAR, str(tmp_path / "m.pth"))
    tracker = Tracker(device="cpu")
    assert tracker.backend_name == "torch" and tracker.device == "cpu"


def test_builtin_models_by_name(monkeypatch, tmp_path, tiny_weights):
    from siamtrack.model.weights import save_weights

    monkeypatch.delenv(models.MODEL_ENV_VAR, raising=False)
    monkeypatch.setattr(models, "PROJECT_WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setattr(models, "INSTALLED_WEIGHTS_DIR", tmp_path / "weights")
    (tmp_path / "weights").mkdir()
    with pytest.raises(WeightsError, match="no default model"):
        Tracker(model="default")
    save_weights(tiny_weights, tmp_path / "weights" / "siamtrack-default.pth")
    tracker = Tracker(model="default", device="cpu")
    assert tracker.backend_name == "torch"
    assert models.available_formats("default") == ("weights",)
    with pytest.raises(WeightsError, match="no default model.*siamtrack-default-onnx does not exist"):
        models.builtin_model_path("default", "onnx")
    with pytest.raises(ValueError, match="no built-in model 'fast'"):
        models.builtin_model_path("fast")
    # A file or folder of that name is what the user means.
    monkeypatch.chdir(tmp_path)
    assert models.builtin_model_name("default") == "default"
    (tmp_path / "default").mkdir()
    assert models.builtin_model_name("default") is None
    assert models.builtin_model_name(None) == "default"


def test_real_tiny_network_end_to_end(tiny_weights):
    tracker = Tracker(model=tiny_weights, device="cpu")
    tracker.init(frame(), (140.5, 100.25, 40, 40))
    for index in range(1, 4):
        result = tracker.update(frame())
        assert result.frame_index == index and 0.0 <= result.score <= 1.0
        assert np.isfinite(result.box).all() and min(result.box[2:]) > 0


def test_results_hold_plain_python_numbers():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map(8, 9)] * n)))
    tracker.init(frame(), (np.float64(140), np.float32(100), 40, 40))
    result = tracker.update(frame())
    assert all(type(v) is float for v in result.box) and type(result.score) is float and type(result.lost) is bool
    assert repr(result.box).startswith("(1")  # no np.float64(...) in what users print


@pytest.mark.parametrize("value, noise", [(0, 0), (128, 0), (0, 1.5)])
def test_featureless_exemplar_scores_zero_and_is_lost(value, noise):
    # A peaked response (the scripted network "finds" it) must not make a black or constant
    # region look trackable.
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    rng = np.random.default_rng(0)
    blank = np.clip(np.full((240, 320, 3), value, np.float32) + rng.normal(0, noise, (240, 320, 3)), 0, 255)
    first = tracker.init(blank.astype(np.uint8), (140, 100, 40, 40))
    assert first.score == 0.0 and first.lost
    for _ in range(3):
        result = tracker.update(blank.astype(np.uint8))
        assert result.score == 0.0 and result.lost


def test_plain_object_on_a_different_background_is_not_featureless():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    assert not tracker.init(frame(), (140, 100, 40, 40)).lost  # uniform square, other background
    assert not tracker.update(frame()).lost


def test_min_texture_zero_turns_the_check_off():
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)), config={"min_texture": 0.0})
    assert not tracker.init(np.zeros((240, 320, 3), np.uint8), (140, 100, 40, 40)).lost


@pytest.mark.parametrize("box", [(1e400, 10, 20, 20), (10 ** 400, 10, 20, 20), "1234", (True, 10, 20, 20),
                                 ("10", "10", "20", "20"), 7])
def test_boxes_that_are_not_four_numbers_in_range_are_input_errors(box):
    tracker = Tracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    with pytest.raises(InputError, match="box"):
        tracker.init(frame(), box)


@pytest.mark.parametrize("target_id", [1.0, "1", True, None.__class__])
def test_target_ids_must_be_whole_numbers(target_id):
    from siamtrack import MultiTracker

    tracker = MultiTracker(backend=ScriptedBackend(lambda n: np.stack([peak_map()] * n)))
    tracker.add(frame(), (140, 100, 40, 40))  # id 1: True would have collided with it
    with pytest.raises(InputError, match="target ids are whole numbers"):
        tracker.add(frame(), (20, 20, 30, 30), target_id=target_id)
    assert tracker.add(frame(), (20, 20, 30, 30), target_id=np.int64(5)).target_id == 5
