"""Labels on annotated frames stay inside the frame and clear of each other and of the fps counter."""

import numpy as np

from siamtrack.app.annotate import annotate_all, label_layout
from siamtrack.results import TrackResult


def overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_labels_near_the_edges_and_each_other_stay_inside_and_apart():
    shape = (240, 320, 3)
    boxes = [(-20, 0, 40, 40), (30, 2, 90, 42), (280, 200, 340, 260), (5, 10, 45, 40)]  # corners, off the edges
    texts = [f"#{i}  score 0.33" for i in range(len(boxes))]
    rects = label_layout(boxes, texts, shape, "29.7 fps")
    for x0, y0, x1, y1 in rects:
        assert 0 <= x0 < x1 <= shape[1] and 0 <= y0 < y1 <= shape[0]
    assert not any(overlap(a, b) for i, a in enumerate(rects) for b in rects[i + 1:])


def test_annotate_all_draws_every_box_and_label():
    frame = np.zeros((240, 320, 3), np.uint8)
    results = [TrackResult((10, 0, 50, 40), 0.33, False, 1, 1), TrackResult((200, 100, 50, 40), 0.1, True, 1, 2)]
    drawn = annotate_all(frame, results, ["#1", "#2"], fps=30.0)
    assert drawn is not frame and not frame.any()
    assert (drawn[:, :, 1] > 200).any() and (drawn[:, :, 2] > 200).any()  # green tracked, red lost
