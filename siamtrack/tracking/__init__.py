"""The tracking core: a frame's way from pixels to boxes, with no I/O.

`tracker` holds [MultiTracker][siamtrack.MultiTracker] and [Tracker][siamtrack.Tracker]; per frame it
cuts crops (`crops`, `redetect` for a lost target's tiles), runs the backend, and hands the
outputs to the step for the model's head (`readout`), which finds response peaks (`peaks`) or
reads a box head's maps (`box_reader`). `device` does the same per-frame work on torch tensors
(the ``tensor`` pipeline). `inputs` checks frames and boxes.

Imports: the model files (`siamtrack.model`), `siamtrack.backends`, and the top-level
`config`, `errors`, `geometry`, `results`; never I/O, the application, detection, serve,
batch, evaluation or training (``tests/test_layering.py``).
"""
