"""Export a siamtrack network to the two ONNX graphs described in `contract`.

Needs torch, onnx and onnxscript (``pip install siamtrack[export]``); the graphs then run with
ONNX Runtime or TensorRT without torch.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from siamtrack import __version__
from siamtrack.errors import ExportError
from siamtrack.files import make_folder, sha256_of, write_atomically
from siamtrack.model import contract
from siamtrack.model.weights import ModelWeights, load_weights
from siamtrack.network.box_head import depthwise_correlate_per_crop
from siamtrack.network.correlation import cross_correlate_per_crop
from siamtrack.network.nano_head import NanoHead
from siamtrack.network.siamese import SiameseNet

LOG = logging.getLogger(__name__)

# Largest batch (targets x scales) the dynamic axis is declared for; runtimes accept any batch
# up to it. 64 = 21 targets at 3 scales, 12 at 5.
MAX_EXPORT_BATCH = 64


class TemplateGraph(nn.Module):
    """Exemplar crops -> kernels (what ``SiameseNet.template`` does)."""

    def __init__(self, network: SiameseNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, exemplar_crops: torch.Tensor) -> torch.Tensor:
        return self.network.template(exemplar_crops)


class SearchGraph(nn.Module):
    """Search crops (N, I, I, 3) + K kernels per crop (N, K, C, h, w) -> responses (N, K, r, r), or
    with a box or nanotrack head its maps (N, K, 6, r, r).

    The correlations are the forms without run-time convolution weights
    (`cross_correlate_per_crop`, `depthwise_correlate_per_crop`)."""

    def __init__(self, network: SiameseNet) -> None:
        super().__init__()
        self.network = network

    def forward(self, search_crops: torch.Tensor, crop_kernels: torch.Tensor) -> torch.Tensor:
        features = self.network.backbone(self.network.preprocess(search_crops))
        meta = self.network.metadata
        head = self.network.head
        if isinstance(head, NanoHead):  # pixel-wise correlation: a batched matrix product, no run-time convolution
            kernels = crop_kernels.reshape(-1, *crop_kernels.shape[2:])
            outputs = head(kernels, features)
            return outputs.reshape(crop_kernels.shape[0], crop_kernels.shape[1], *outputs.shape[1:])
        if head is not None:
            outputs = head(depthwise_correlate_per_crop(crop_kernels, features))
            return outputs.reshape(crop_kernels.shape[0], crop_kernels.shape[1], *outputs.shape[1:])
        return cross_correlate_per_crop(crop_kernels, features, meta.response_scale,
                                        meta.response_bias)


def inference_network(weights: ModelWeights) -> SiameseNet:
    """The network in eval mode with BatchNorm folded, on the CPU, without gradients."""
    network = SiameseNet(weights.metadata)
    network.load_state_dict(dict(weights.state_dict))
    network = network.eval().fold_batch_norm()
    network.requires_grad_(False)
    return network


def _example_inputs(network: SiameseNet, batch: int = 2,
                    per_crop: int = 3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Exemplars (batch * per_crop), search crops (batch) and their kernels (batch, per_crop, C, h, w)."""
    meta = network.metadata
    generator = torch.Generator().manual_seed(0)
    exemplar = torch.randint(0, 256, (batch * per_crop, meta.exemplar_size, meta.exemplar_size, 3),
                             dtype=torch.uint8, generator=generator)
    search = torch.randint(0, 256, (batch, meta.instance_size, meta.instance_size, 3),
                           dtype=torch.uint8, generator=generator)
    with torch.inference_mode():
        kernels = network.template(exemplar)
    return exemplar, search, kernels.reshape(batch, per_crop, *kernels.shape[1:]).clone()


def _export_one(module: nn.Module, inputs: tuple[torch.Tensor, ...], graph: str, opset: int):
    import onnx

    batch = torch.export.Dim("batch", min=1, max=MAX_EXPORT_BATCH)
    per_crop = torch.export.Dim("kernels_per_crop", min=1, max=contract.MAX_KERNELS_PER_CROP)
    # Every input is batched on axis 0; the search graph's kernels also on K (axis 1).
    dynamic_shapes = tuple({0: batch, 1: per_crop} if tensor.dim() == 5 else {0: batch} for tensor in inputs)
    # The exporter narrates its steps (INFO from onnx_ir, WARNING about optional torchvision
    # ops from torch.onnx); keep the user's console for what matters.
    chatty = [logging.getLogger("onnx_ir"), logging.getLogger("torch.onnx"), logging.getLogger("onnxscript")]
    levels = [logger.level for logger in chatty]
    for logger in chatty:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(module, inputs, dynamo=True, opset_version=opset,
                                        input_names=list(contract.GRAPH_INPUTS[graph]),
                                        output_names=list(contract.GRAPH_OUTPUTS[graph]),
                                        dynamic_shapes=dynamic_shapes, external_data=False,
                                        verbose=False)
    finally:
        for logger, level in zip(chatty, levels):
            logger.setLevel(level)
    if program is None:
        raise ExportError(f"torch.onnx.export gave no program for the {graph} graph")
    model = program.model_proto
    onnx.checker.check_model(model, full_check=True)
    return model


def _save_onnx(model, path: Path) -> None:
    import onnx

    write_atomically(path, lambda temporary: onnx.save(model, str(temporary)))


def _verify_with_onnxruntime(folder: Path, network: SiameseNet,
                             inputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> float | None:
    """Largest relative difference between ONNX Runtime's and torch's responses (None: no ORT)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    exemplar, search, _ = inputs
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    sessions = {graph: onnxruntime.InferenceSession(str(folder / name), options,
                                                    providers=["CPUExecutionProvider"])
                for graph, name in contract.GRAPH_FILES.items()}
    kernels = sessions[contract.TEMPLATE].run(None, {contract.EXEMPLAR_CROPS: exemplar.numpy()})[0]
    per_crop_kernels = kernels.reshape(len(search), -1, *kernels.shape[1:])
    responses = sessions[contract.SEARCH].run(None, {contract.SEARCH_CROPS: search.numpy(),
                                                     contract.CROP_KERNELS: per_crop_kernels})[0]
    with torch.inference_mode():
        expected = network.track(search, network.template(exemplar)).numpy()
    responses = responses.reshape(expected.shape)
    return float(np.abs(responses - expected).max() / max(np.abs(expected).max(), 1e-12))


def export_onnx(weights_path: str | Path, output_dir: str | Path, opset: int = contract.OPSET,
                tolerance: float = 1e-4) -> Path:
    """Export the weights' template and search branches as ONNX graphs.

    Args:
        weights_path: any weights file [siamtrack.model.weights.load_weights][siamtrack.load_weights] reads.
        output_dir: folder to write ``template.onnx`` and ``search.onnx`` into (created).
        opset: ONNX opset (>= 17; 18 is written without conversion).
        tolerance: largest relative difference from torch accepted when ONNX Runtime is
            installed to check the graphs.

    Returns:
        The output folder.

    Raises:
        WeightsError: the weights cannot be read.
        ExportError: export, the ONNX checker or the numerical check failed.
    """
    if opset < contract.MIN_OPSET:
        raise ExportError(f"opset must be >= {contract.MIN_OPSET}, got {opset}")
    weights = load_weights(weights_path)
    network = inference_network(weights)
    inputs = _example_inputs(network)
    exemplar, search, kernels = inputs
    with torch.inference_mode():
        responses = SearchGraph(network)(search, kernels)
    channels, height, width = kernels.shape[2:]
    info = contract.GraphInfo(metadata=network.metadata, weights_sha256=sha256_of(weights_path),
                              kernel_shape=(int(channels), int(height), int(width)),
                              response_size=int(responses.shape[-1]), exporter_version=__version__)
    folder = Path(output_dir)
    make_folder(folder, ExportError)
    graphs = {contract.TEMPLATE: (TemplateGraph(network), (exemplar,)),
              contract.SEARCH: (SearchGraph(network), (search, kernels))}
    import onnx

    for graph, (module, graph_inputs) in graphs.items():
        try:
            model = _export_one(module, graph_inputs, graph, opset)
        except (onnx.checker.ValidationError, RuntimeError, ValueError) as exc:
            raise ExportError(f"exporting the {graph} graph failed: {str(exc).splitlines()[0]}") from exc
        onnx.helper.set_model_props(model, info.to_props(graph))
        _save_onnx(model, folder / contract.GRAPH_FILES[graph])
    contract.write_checksums(folder)
    difference = _verify_with_onnxruntime(folder, network, inputs)
    if difference is None:
        LOG.warning("onnxruntime is not installed: the exported graphs were not run to check them")
    elif difference > tolerance:
        raise ExportError(f"ONNX Runtime's responses differ from torch's by {difference:.2e} "
                          f"(relative), more than {tolerance:.0e}")
    else:
        LOG.info("ONNX Runtime matches torch: largest relative difference %.2e", difference)
    return folder
