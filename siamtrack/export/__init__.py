"""Exported forms of a siamtrack network: ONNX graphs (`onnx_export`, needs torch and onnx).

What exporter and backends share (tensor names, metadata keys, file names) is the model's
(`siamtrack.model.contract`); TensorRT engines are built and cached at run time by
`siamtrack.backends.tensorrt_runtime`, which ``siamtrack export --tensorrt`` calls.
"""
