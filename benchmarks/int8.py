"""Is int8 quantisation of the CPU model worth it? Static QDQ int8 vs fp32, search graph, ONNX Runtime.

    python benchmarks/int8.py [--threads 2]       # -> benchmarks/results/int8.json

Calibrates ONNX Runtime's static quantiser (QDQ, per-channel int8 weights, uint8 activations,
convolutions only; the correlation stays fp32) on search crops of the training sequences, then
times both search graphs on the same crops in the same run and compares their responses. The
int8 model would replace the fp32 one only if faster at <= 0.01 dev AUC loss.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def calibration_samples(count_sequences: int = 6) -> list[dict[str, np.ndarray]]:
    """Search crops and kernels cut at the ground truth of training sequences, as the tracker cuts them.

    Every 8th of the first 40 frames; the exemplar from each sequence's first labelled frame.
    """
    import cv2

    from siamtrack.backends import create_backend
    from siamtrack.datasets import load_dataset
    from siamtrack.tracking.crops import crop_squares
    from siamtrack.training.augment import box_center, context_side

    backend = create_backend("onnx", threads=2)
    meta = backend.metadata
    samples = []
    for sequence in load_dataset(SHARED / "data" / "train")[:count_sequences]:
        labelled = [i for i in range(min(40, len(sequence.frames))) if not sequence.absent[i]][::8]
        frames = {i: cv2.imread(str(sequence.frames[i])) for i in labelled}
        first = labelled[0]
        pad = cv2.mean(frames[first])[:3]
        exemplar_side = context_side(sequence.boxes[first], 0.5)
        exemplar = crop_squares(frames[first], tuple(box_center(sequence.boxes[first])), [exemplar_side],
                                meta.exemplar_size, pad)
        kernels = backend.template(exemplar)
        for index in labelled[1:]:
            # The single-pass step's input: one search crop, its kernels.
            side = context_side(sequence.boxes[index], 0.5) * meta.instance_size / meta.exemplar_size
            crops = crop_squares(frames[index], tuple(box_center(sequence.boxes[index])), [side],
                                 meta.instance_size, pad)
            samples.append({"search_crops": crops, "crop_kernels": np.asarray(kernels)[None]})
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "int8.json")
    args = parser.parse_args()
    import onnxruntime
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from siamtrack.evaluation.report import machine_info, write_json
    from siamtrack.model.builtin import default_model_path

    fp32_path = default_model_path("onnx") / "search.onnx"
    samples = calibration_samples()

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(samples)

        def get_next(self):
            return next(self.items, None)

    def session(path: Path):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level = args.threads, 1, 3
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    with tempfile.TemporaryDirectory() as scratch:
        prepared, int8_path = Path(scratch) / "pre.onnx", Path(scratch) / "search-int8.onnx"
        quant_pre_process(str(fp32_path), str(prepared))
        quantize_static(str(prepared), str(int8_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8, op_types_to_quantize=["Conv"])
        sessions = {"fp32": session(fp32_path), "int8": session(int8_path)}
        timings = {name: [] for name in sessions}
        for _ in range(3):  # interleaved rounds, so both see the same machine load
            for name, runner in sessions.items():
                for sample in samples[:3]:
                    runner.run(None, sample)
                began = time.perf_counter()
                for index in range(args.runs):
                    runner.run(None, samples[index % len(samples)])
                timings[name].append((time.perf_counter() - began) / args.runs * 1000.0)
        differences = []
        for sample in samples:
            reference = sessions["fp32"].run(None, sample)[0]
            quantised = sessions["int8"].run(None, sample)[0]
            differences.append(float(np.abs(quantised - reference).max() / np.abs(reference).max()))
    rows = {name: {"median_ms": float(np.median(values)), "rounds_ms": values} for name, values in timings.items()}
    speedup = rows["fp32"]["median_ms"] / rows["int8"]["median_ms"]
    print(f"{'graph':6s} {'ms per 3-crop search':>22s}")
    for name, row in rows.items():
        print(f"{name:6s} {row['median_ms']:22.2f}")
    print(f"int8 speed-up {speedup:.2f}x; response difference (max relative) median {np.median(differences):.3f}")
    decision = ("adopt if dev AUC loss <= 0.01" if speedup > 1.05 else
                "not adopted: int8 is not faster here, so its accuracy cost is not worth measuring")
    print(decision)
    write_json(args.json, {"command": "python " + " ".join(sys.argv), "onnxruntime": onnxruntime.__version__,
                           "calibration_samples": len(samples), "search_graph": rows, "int8_speedup": speedup,
                           "response_difference_median": float(np.median(differences)), "decision": decision,
                           "machine": machine_info(args.threads)})
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
