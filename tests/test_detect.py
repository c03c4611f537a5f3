"""Detectors (siamtrack.detection.detectors): YOLO-layout ONNX graphs whose answer is known, OpenCV's HOG and Haar
detectors on real training frames, and non-maximum suppression by hand."""

import cv2
import numpy as np
import pytest

from siamtrack.detection.detectors import (
    Detections,
    Detector,
    FaceDetector,
    OnnxDetector,
    PeopleDetector,
    create_detector,
    decode_yolo,
    letterbox,
    non_maximum_suppression,
)
from siamtrack.errors import ConfigError
from siamtrack.evaluation.metrics import iou
from tests.conftest import SHARED

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
TRAIN = SHARED / "data" / "train"


def constant_detector(path, output, input_size=(640, 640), names=None):
    """An ONNX graph that takes an image batch and always answers ``output`` (a YOLO layout)."""
    from onnx import TensorProto, helper, numpy_helper

    width, height = input_size
    constant = numpy_helper.from_array(np.asarray(output, np.float32), "answer")
    nodes = [helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
             helper.make_node("Mul", ["mean", "zero"], ["nothing"]),  # keeps the input in the graph
             helper.make_node("Add", ["answer", "nothing"], ["output0"])]
    graph = helper.make_graph(nodes, "constant", [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                                               [1, 3, height, width])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(constant.dims))],
                              [constant, numpy_helper.from_array(np.zeros((), np.float32), "zero")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if names is not None:
        helper.set_model_props(model, {"names": repr(dict(enumerate(names)))})
    onnx.save(model, str(path))
    return path


# Four candidates in network pixels (640 x 640 input), 3 classes: (cx, cy, w, h, class, score).
CANDIDATES = [(320, 320, 100, 50, 2, 0.9),   # kept
              (325, 322, 100, 50, 2, 0.6),   # same class, overlaps the first: suppressed
              (322, 320, 96, 50, 0, 0.7),    # another class on top of it: kept
              (100, 500, 40, 40, 1, 0.1)]    # below the confidence threshold: dropped


def v8_output():
    output = np.zeros((1, 4 + 3, len(CANDIDATES)))
    for n, (cx, cy, w, h, c, score) in enumerate(CANDIDATES):
        output[0, :4, n] = (cx, cy, w, h)
        output[0, 4 + c, n] = score
    return output


def v5_output():
    output = np.zeros((1, len(CANDIDATES), 5 + 3))
    for n, (cx, cy, w, h, c, score) in enumerate(CANDIDATES):
        output[0, n, :5] = (cx, cy, w, h, 1.0)  # objectness 1: the class score is the score
        output[0, n, 5 + c] = score
    return output


@pytest.mark.parametrize("layout", [v8_output, v5_output], ids=["yolov8", "yolov5"])
def test_onnx_detector_decodes_letterboxes_and_suppresses(tmp_path, layout):
    path = constant_detector(tmp_path / "det.onnx", layout(), names=["person", "bicycle", "car"])
    detector = OnnxDetector(path)
    assert isinstance(detector, Detector) and detector.names == ("person", "bicycle", "car")
    found = detector.detect(np.zeros((720, 1280, 3), np.uint8))
    # 1280 x 720 letterboxed into 640 x 640: scale 0.5, 140 px of padding above and below.
    assert len(found) == 2
    car = found.class_ids.tolist().index(2)
    assert found.boxes[car] == pytest.approx([(320 - 50) / 0.5, (320 - 25 - 140) / 0.5, 200, 100])
    assert found.scores[car] == pytest.approx(0.9) and found.class_name(car) == "car"
    person = 1 - car
    assert found.boxes[person] == pytest.approx([(322 - 48) / 0.5, (320 - 25 - 140) / 0.5, 192, 100])


def test_input_size_comes_from_the_graph(tmp_path):
    path = constant_detector(tmp_path / "det.onnx", v8_output(), input_size=(320, 192))
    detector = OnnxDetector(path, names=["a", "b", "c"])
    assert detector.input_size == (320, 192)
    image, scale, padding = letterbox(np.zeros((100, 400, 3), np.uint8), (320, 192))
    assert image.shape == (192, 320, 3) and scale == pytest.approx(0.8) and padding == (0.0, 56.0)


def test_decode_reads_both_layouts_alike():
    v8 = decode_yolo(v8_output(), class_count=3)  # with 4 anchors only, the shape alone is ambiguous
    v5 = decode_yolo(v5_output(), class_count=3)
    for a, b in zip(v8, v5):
        assert np.allclose(a, b)


def test_non_maximum_suppression_by_hand():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 5, 5], [0, 0, 10, 10]], dtype=float)
    scores = np.array([0.5, 0.9, 0.8, 0.7])
    classes = np.array([0, 0, 0, 1])
    # Box 1 beats box 0 (IoU 0.68); box 2 overlaps nothing; box 3 is another class.
    assert non_maximum_suppression(boxes, scores, classes, 0.5).tolist() == [1, 2, 3]
    assert non_maximum_suppression(boxes, scores, classes, 0.7).tolist() == [1, 2, 3, 0]


def test_detector_specs():
    assert isinstance(create_detector("person"), PeopleDetector)
    assert isinstance(create_detector("face"), FaceDetector)
    with pytest.raises(ConfigError, match="unknown detector 'cat'"):
        create_detector("cat")
    with pytest.raises(ConfigError, match="not found"):
        create_detector("onnx:/nonexistent.onnx")


def training_frame(sequence, index):
    folder = TRAIN / sequence
    if not folder.is_dir():
        pytest.skip(f"needs {folder}")
    from siamtrack.datasets import load_dataset

    (loaded,) = load_dataset(folder)
    return cv2.imread(str(loaded.frames[index])), loaded.boxes[index]


@pytest.mark.parametrize("sequence, index", [("Human9", 20), ("Jogging-1", 0), ("Woman", 60), ("Dancer2", 20)])
def test_people_detector_finds_the_person_of_real_frames(sequence, index):
    frame, truth = training_frame(sequence, index)
    found = PeopleDetector().detect(frame)
    assert len(found) >= 1 and found.names == ("person",)
    assert iou(found.boxes, np.repeat(truth[None], len(found), axis=0)).max() > 0.6


@pytest.mark.parametrize("sequence, index", [("David", 0), ("FaceOcc1", 50)])
def test_face_detector_finds_the_face_of_real_frames(sequence, index):
    frame, truth = training_frame(sequence, index)
    found = FaceDetector().detect(frame)
    assert len(found) == 1 and found.scores[0] > 0.9
    assert iou(found.boxes, truth[None]).max() > 0.5


def test_nothing_to_find_gives_empty_detections():
    blank = np.full((240, 320, 3), 90, np.uint8)
    for detector in (PeopleDetector(), FaceDetector()):
        assert len(detector.detect(blank)) == 0
    assert len(Detections.empty()) == 0


@pytest.mark.parametrize("output_shape, input_size, words", [
    ((1, 4, 3), (640, 640), "siamtrack reads YOLO layouts"),
    ((6, 100), (640, 640), "siamtrack reads YOLO layouts"),
    ((1, 7, 100), (100000, 100000), "outside 32 - 4096"),
    ((1, 7, 100), (16, 16), "outside 32 - 4096"),
])
def test_a_detector_of_another_shape_is_refused_when_it_is_loaded(tmp_path, output_shape, input_size, words):
    pytest.importorskip("onnx")
    from siamtrack.detection.detectors import OnnxDetector
    from siamtrack.errors import ConfigError

    model = constant_detector(tmp_path / "det.onnx", np.zeros(output_shape), input_size=input_size)
    with pytest.raises(ConfigError, match=words):
        OnnxDetector(model)


def test_a_detector_that_takes_one_channel_is_refused(tmp_path):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from siamtrack.detection.detectors import OnnxDetector
    from siamtrack.errors import ConfigError

    answer = numpy_helper.from_array(np.zeros((1, 7, 10), np.float32), "answer")
    nodes = [helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
             helper.make_node("Add", ["answer", "mean"], ["output0"])]
    graph = helper.make_graph(nodes, "gray", [helper.make_tensor_value_info("images", TensorProto.FLOAT,
                                                                           [1, 1, 64, 64])],
                              [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 7, 10])], [answer])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "gray.onnx"))
    with pytest.raises(ConfigError, match=r"\(1, 3, height, width\)"):
        OnnxDetector(tmp_path / "gray.onnx")


def test_few_boxes_in_a_narrow_output_are_read_in_the_layout_that_fits(tmp_path):
    pytest.importorskip("onnx")
    output = np.zeros((1, 6, 3))  # (4 + 2 classes, 3 boxes): as (boxes, 5 + classes) it would lack columns
    output[0, :, 0] = (320, 320, 100, 50, 0.9, 0.1)
    detector = OnnxDetector(constant_detector(tmp_path / "det.onnx", output))
    found = detector.detect(np.zeros((640, 640, 3), np.uint8))
    assert len(found) == 1 and found.boxes[0] == pytest.approx((270, 295, 100, 50))


def test_a_detection_in_the_letterbox_padding_is_dropped_and_one_across_the_edge_is_cut(tmp_path):
    pytest.importorskip("onnx")
    output = np.zeros((1, 5, 2))  # one class, two boxes in a 640 x 640 input over a 640 x 320 frame (160 px pads)
    output[0, :, 0] = (320, 40, 100, 40, 0.9)    # wholly in the top padding
    output[0, :, 1] = (320, 170, 100, 40, 0.9)   # half in the padding, half in the frame
    detector = OnnxDetector(constant_detector(tmp_path / "det.onnx", output))
    found = detector.detect(np.zeros((320, 640, 3), np.uint8))
    assert len(found) == 1 and found.boxes[0] == pytest.approx((270, 0, 100, 30))
