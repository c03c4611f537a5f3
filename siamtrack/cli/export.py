"""``siamtrack export``: ONNX graphs or TensorRT engines."""

from __future__ import annotations

import argparse
from pathlib import Path

from siamtrack.cli.common import EXIT_OK, positive_int, say, whole_number
from siamtrack.model.contract import MIN_OPSET, OPSET


def run(args: argparse.Namespace) -> int:
    from siamtrack.errors import InputError
    from siamtrack.files import check_folder_possible
    from siamtrack.model.builtin import model_path
    from siamtrack.model.contract import is_exported_model

    model = model_path(args.model, "weights")
    output = Path(args.output)
    check_folder_possible(output, InputError)
    if args.format == "tensorrt":  # fail before writing anything when engines cannot be built here
        from siamtrack.backends.tensorrt_runtime import gpu_identity, import_tensorrt

        import_tensorrt()
        gpu_identity(args.device)
    if args.format == "onnx" or not is_exported_model(model):
        from siamtrack.export.onnx_export import export_onnx

        onnx_folder = output if args.format == "onnx" else output / "onnx"
        export_onnx(model, onnx_folder, opset=args.opset)
        say(args, f"wrote {onnx_folder}/template.onnx and search.onnx (checked with onnx.checker)")
    else:
        onnx_folder = model
    if args.format == "tensorrt":
        from siamtrack.backends.tensorrt_runtime import export_engines

        fp16_choices: dict[str, str | bool] = {"auto": "auto", "on": True, "off": False}
        fp16 = fp16_choices[args.fp16]
        paths = export_engines(onnx_folder, output, fp16=fp16, max_batch=args.max_batch, device=args.device)
        say(args, "wrote " + " and ".join(str(p) for p in paths.values()))
    return EXIT_OK


def opset(text: str) -> int:
    """An ONNX opset the exporter writes (others would be silently replaced by the one it knows)."""
    return whole_number(text, MIN_OPSET, OPSET)


def add_parser(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export", help="export a model for deployment: ONNX graphs or TensorRT engines",
        description="Write the template and search branches as ONNX graphs (for ONNX Runtime or TensorRT; "
                    "no torch needed to run them) or build TensorRT engines for this GPU. MODEL is a weights "
                    "file, or for --format tensorrt also an ONNX export folder.")
    export.add_argument("model", nargs="?", help="weights file or built-in model name (default: the default model)")
    export.add_argument("--format", required=True, choices=("onnx", "tensorrt"), help="what to write")
    export.add_argument("--output", required=True, metavar="DIR", help="folder to write into (created)")
    export.add_argument("--opset", type=opset, default=OPSET,
                        help=f"ONNX opset, {MIN_OPSET} or {OPSET} (default: {OPSET})")
    export.add_argument("--fp16", choices=("auto", "on", "off"), default="auto",
                        help="TensorRT FP16 kernels; auto enables them where the GPU has fast FP16")
    export.add_argument("--max-batch", type=positive_int, default=48,
                        help="TensorRT: most search crops (targets x scales) per frame (default: 48)")
    export.add_argument("--device", default="cuda", help="TensorRT: the GPU to build for (default: cuda)")
    export.add_argument("--quiet", action="store_true", help="print nothing")
    export.set_defaults(handler=run)
