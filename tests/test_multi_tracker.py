"""MultiTracker: batching, add/remove at any frame, stable ids, leaving the frame, crossing targets."""

import numpy as np
import pytest

from siamtrack import MultiTracker, StageTimes, Tracker, TrackResult, update_streams
from siamtrack.app.synthetic import ClipSpec, make_clip, make_crossing_clip
from siamtrack.errors import ConfigError, InputError
from siamtrack.evaluation.metrics import iou
from tests.test_tracker import ScriptedBackend, frame, peak_map


def scripted():
    return ScriptedBackend(lambda n: np.stack([peak_map()] * n))


def test_all_targets_go_through_one_backend_call_per_frame():
    backend = scripted()
    tracker = MultiTracker(backend=backend)
    tracker.add(frame(), (140, 100, 40, 40))
    tracker.add(frame(), (20, 20, 30, 30))
    tracker.add(frame(), (200, 150, 50, 40))
    backend.calls.clear()
    results = tracker.update(frame())
    assert backend.calls == [9]  # 3 targets x 3 scales, one call
    assert sorted(results) == [1, 2, 3]
    assert all(result.target_id == key for key, result in results.items())


def test_add_and_remove_at_any_frame_keep_ids_stable():
    tracker = MultiTracker(backend=scripted())
    assert tracker.update(frame()) == {}
    added = tracker.add(frame(), (140, 100, 40, 40))
    assert added == TrackResult((140.0, 100.0, 40.0, 40.0), 1.0, False, 0, 1)  # its first result
    first = added.target_id
    tracker.update(frame())
    second = tracker.add(frame(), (20, 20, 30, 30)).target_id
    assert (first, second) == (1, 2)
    results = tracker.update(frame())
    assert results[first].frame_index == 2 and results[second].frame_index == 1
    tracker.remove(first)
    third = tracker.add(frame(), (200, 150, 50, 40)).target_id
    assert third == 3  # ids are never reused
    results = tracker.update(frame())
    assert sorted(results) == [2, 3] and tracker.ids == [2, 3] and len(tracker) == 2
    assert results[second].frame_index == 2 and results[third].frame_index == 1
    tracker.remove(second)
    tracker.remove(third)
    assert tracker.update(frame()) == {}


def test_caller_chosen_ids_are_kept_and_automatic_ids_continue_above_them():
    tracker = MultiTracker(backend=scripted())
    assert tracker.add(frame(), (140, 100, 40, 40), target_id=7).target_id == 7
    assert tracker.add(frame(), (20, 20, 30, 30)).target_id == 8
    with pytest.raises(KeyError, match="target id 7 is in use"):
        tracker.add(frame(), (20, 20, 30, 30), target_id=7)
    with pytest.raises(ValueError, match="start at 1"):
        tracker.add(frame(), (20, 20, 30, 30), target_id=0)
    assert sorted(tracker.update(frame())) == [7, 8]


def test_stage_times_record_the_last_update():
    tracker = MultiTracker(backend=scripted())
    assert tracker.stage_times == StageTimes()
    tracker.add(frame(), (140, 100, 40, 40))
    tracker.update(frame())
    stages = tracker.stage_times
    assert stages.crop > 0 and stages.network > 0 and stages.head > 0


def test_remove_unknown_id():
    tracker = MultiTracker(backend=scripted())
    tracker.add(frame(), (140, 100, 40, 40))
    with pytest.raises(KeyError, match="no target with id 7"):
        tracker.remove(7)


def test_frame_size_must_stay_while_targets_exist():
    tracker = MultiTracker(backend=scripted())
    tracker.add(frame(), (140, 100, 40, 40))
    with pytest.raises(InputError, match="frame size changed"):
        tracker.add(frame(height=200), (10, 10, 20, 20))
    tracker.clear()
    tracker.add(frame(height=200), (10, 10, 20, 20))  # no targets left: a new size is fine


def test_tracker_is_the_single_target_face():
    tracker = Tracker(backend=scripted())
    assert tracker.init(frame(), (140, 100, 40, 40)).target_id == 1
    assert tracker.update(frame()).target_id == 1
    assert tracker.init(frame(), (20, 20, 30, 30)).target_id == 1  # re-init replaces, same id
    assert tracker.multi_tracker.ids == [1]


def test_streams_share_one_backend_call():
    backend = scripted()
    cameras = [MultiTracker(backend=backend) for _ in range(3)]
    cameras[0].add(frame(), (140, 100, 40, 40))
    cameras[2].add(frame(height=200), (20, 20, 30, 30))
    cameras[2].add(frame(height=200), (100, 60, 30, 30))
    backend.calls.clear()
    results = update_streams([(cameras[0], frame()), (cameras[1], frame()), (cameras[2], frame(height=200))])
    assert backend.calls == [9]  # 3 targets of 2 cameras x 3 scales, one call
    assert [sorted(r) for r in results] == [[1], [], [1, 2]]
    with pytest.raises(ConfigError, match="share one backend"):
        update_streams([(cameras[0], frame()), (MultiTracker(backend=scripted()), frame())])
    assert cameras[1].stage_times.network == 0  # no targets: it took no part in the call


def test_streams_on_different_pipelines_are_refused():
    from siamtrack.backends import create_backend
    from siamtrack.model.builtin import default_model_path

    backend = create_backend("torch", default_model_path(), device="cpu")
    host, device = MultiTracker(backend=backend), MultiTracker(backend=backend, pipeline="tensor")
    with pytest.raises(ConfigError, match="one pipeline, got opencv and tensor"):
        update_streams([(host, frame()), (device, frame())])


def test_streams_with_different_scale_searches_take_one_call_each():
    backend = scripted()
    single, pyramid = MultiTracker(backend=backend, config="single-pass"), MultiTracker(backend=backend)
    single.add(frame(), (140, 100, 40, 40))
    pyramid.add(frame(), (140, 100, 40, 40))
    pyramid.add(frame(), (20, 20, 30, 30))
    backend.calls.clear()
    results = update_streams([(single, frame()), (pyramid, frame())])
    assert sorted(backend.calls) == [1, 6]  # 1 crop x 3 kernels; 2 targets x 3 crops x 1 kernel
    assert [sorted(r) for r in results] == [[1], [1, 2]]


@pytest.mark.parametrize("scale_search, normal_crops", [("pyramid", 3), ("single", 1)])
def test_lost_target_holds_its_box_and_searches_wider_tiles(scale_search, normal_crops):
    state = {"height": 1.0}
    backend = ScriptedBackend(lambda n: np.stack([peak_map(height=state["height"])] * n))
    tracker = MultiTracker(backend=backend, config={"lost_patience": 2, "max_tiles": 4, "redetect": True,
                                                    "scale_search": scale_search})
    tracker.add(frame(), (140, 100, 40, 40))
    state["height"] = 0.05  # the target fades: low confidence from now on
    results = [tracker.update(frame())[1] for _ in range(6)]
    assert [r.lost for r in results] == [False, True, True, True, True, True]
    held = results[2].box
    assert all(r.box == held for r in results[2:])
    assert backend.calls[-4:] != [normal_crops] * 4 and max(backend.calls) <= 4  # tiles, at most max_tiles
    state["height"] = 1.0
    back = tracker.update(frame())[1]
    assert not back.lost and back.score >= 0.5


def test_redetect_off_keeps_plain_siamfc_behaviour():
    state = {"height": 1.0}
    backend = ScriptedBackend(lambda n: np.stack([peak_map(height=state["height"])] * n))
    tracker = MultiTracker(backend=backend, config={"lost_patience": 2, "redetect": False})
    tracker.add(frame(), (140, 100, 40, 40))
    state["height"] = 0.05
    results = [tracker.update(frame())[1] for _ in range(5)]
    assert [r.lost for r in results] == [False, True, True, True, True]
    assert set(backend.calls[1:]) == {3}  # always the scale pyramid, never tiles


@pytest.fixture(scope="module")
def default_tracker_factory():
    def build(**config):
        return MultiTracker(config={"redetect": True, **config}, threads=2)

    return build


def test_target_leaving_and_reentering_is_lost_then_reacquired(default_tracker_factory):
    spec = ClipSpec(frames=90, width=480, height=360, object_size=(64, 48), scale_range=(0.9, 1.1),
                    offscreen=(30, 50), seed=5)
    frames, truth = make_clip(spec)
    # The default model (v5) scores the background it holds while the object is away 0.49 - 0.71,
    # under its own lost threshold (0.9), so it is flagged lost 4 frames after the object left; its
    # tiles then match textured background at up to 0.99, which its appearance check turns down
    # (siamtrack.tracking.appearance) until the object is back.
    tracker = default_tracker_factory()
    target = tracker.add(frames[0], truth[0]).target_id
    results = [tracker.update(image)[target] for image in frames[1:]]
    outside = [i for i in range(1, len(frames)) if truth[i][0] >= spec.width]
    assert outside, "the clip must take the object out of the frame"
    assert all(results[i - 1].lost for i in outside[len(outside) // 2:]), "lost while away"
    reentry = next(i for i in range(outside[-1] + 1, len(frames)) if truth[i][0] + truth[i][2] <= spec.width)
    # Default model v5 re-acquires 8 frames after the object is fully back (v4 17, v3 18, v2 under
    # 10): its match of the returning object stays under redetect_threshold until then. A tracker
    # that never re-acquires (or is never flagged lost) fails here.
    window = 25
    overlaps = [float(iou(results[i - 1].box, truth[i])[0]) for i in range(reentry, reentry + window)]
    first_good = next((k for k, value in enumerate(overlaps)
                       if value > 0.5 and not results[reentry + k - 1].lost), None)
    assert first_good is not None, f"not re-acquired within {window} frames of re-entry: IoU {np.round(overlaps, 2)}"


def test_crossing_targets_tracked_together_get_the_boxes_each_gets_alone(default_tracker_factory):
    # Batching targets must not mix them up: each target's boxes through the crossing (B passes in
    # front of A) are exactly those of a tracker that follows it alone. Whether the model keeps A
    # through the occlusion is a property of the model, measured by benchmarks/crossing.py.
    frames, truth_a, truth_b = make_crossing_clip(frames=60, seed=2)
    tracker = default_tracker_factory()
    a, b = tracker.add(frames[0], truth_a[0]).target_id, tracker.add(frames[0], truth_b[0]).target_id
    history = [tracker.update(image) for image in frames[1:]]
    for truth, target in ((truth_a, a), (truth_b, b)):
        alone = default_tracker_factory()
        only = alone.add(frames[0], truth[0]).target_id
        expected = np.array([alone.update(image)[only].box for image in frames[1:]])
        assert np.array_equal(np.array([step[target].box for step in history]), expected)
    tail = range(len(frames) - 10, len(frames))  # B, in front, is kept by every model measured
    assert min(float(iou(history[i - 1][b].box, truth_b[i])[0]) for i in tail) > 0.5


class KernelRecordingBackend(ScriptedBackend):
    """Kernels are the exemplar crops' means, so a stale batch of kernels is visible."""

    def __init__(self):
        super().__init__(lambda n: np.stack([peak_map()] * n))
        self.batches = []

    def template(self, crops):
        super().template(crops)
        return crops.reshape(len(crops), -1).mean(axis=1)

    def track(self, crops, kernels):
        self.batches.append(np.asarray(kernels).copy())
        return super().track(crops, kernels)


def test_reinit_and_replacement_never_reuse_old_kernels():
    backend = KernelRecordingBackend()
    tracker = Tracker(backend=backend)
    tracker.init(frame(value=50), (140, 100, 40, 40))
    tracker.update(frame(value=50))
    first = backend.batches[-1]
    tracker.init(frame(value=150), (140, 100, 40, 40))  # same id 1, new exemplar
    tracker.update(frame(value=150))
    assert not np.allclose(backend.batches[-1], first)
    multi = MultiTracker(backend=backend)
    a = multi.add(frame(value=50), (140, 100, 40, 40)).target_id
    multi.update(frame())
    before = backend.batches[-1]
    multi.remove(a)
    multi.add(frame(value=150), (140, 100, 40, 40))
    multi.update(frame())
    assert not np.allclose(backend.batches[-1], before)
