"""Exported forms of a siamtrack network: ONNX graphs and TensorRT engines.

`contract` (no torch, no onnx) holds what exporter and backends share: tensor names,
metadata keys, file names. `onnx_export` writes the graphs (needs torch and onnx);
`tensorrt_engines` builds and caches engines (needs TensorRT only where it builds).
"""
