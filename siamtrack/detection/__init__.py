"""Detectors that start and re-acquire targets (`detectors`: HOG, ONNX, callables) and
conversion to and from roboflow's supervision (`interop`).

Imports: the tracking core and the top-level modules; no I/O or application.
"""
