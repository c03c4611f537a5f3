"""A small ONNX graph run with torch operations, so a published graph runs on CUDA through PyTorch.

ONNX Runtime's CUDA build is a separate install that the project cannot assume; torch is what a
GPU machine has. The graphs this runs (NanoTrack v2's) use a dozen plain operators, each mapped
here to its torch equivalent with ONNX's semantics (a Reshape's 0 copies the input's dimension,
a HardSigmoid takes its own alpha and beta). An operator not listed is refused when the graph is
loaded, not when it first runs. The weights stay the graph's: they are read into buffers at load
time and never written anywhere.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from siamtrack.errors import WeightsError

Operator = Callable[[list[Any], dict[str, Any]], torch.Tensor]


def _conv(inputs: list[Any], attributes: dict[str, Any]) -> torch.Tensor:
    x, weight = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    pads = attributes.get("pads", [0, 0, 0, 0])
    if pads[:2] != pads[2:]:
        x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
        pads = [0, 0]
    return F.conv2d(x, weight, bias, tuple(attributes.get("strides", [1, 1])), tuple(pads[:2]),
                    tuple(attributes.get("dilations", [1, 1])), attributes.get("group", 1))


def _gemm(inputs: list[Any], attributes: dict[str, Any]) -> torch.Tensor:
    a = inputs[0].transpose(-1, -2) if attributes.get("transA", 0) else inputs[0]
    b = inputs[1].transpose(-1, -2) if attributes.get("transB", 0) else inputs[1]
    result = attributes.get("alpha", 1.0) * (a @ b)
    if len(inputs) > 2 and inputs[2] is not None:
        result = result + attributes.get("beta", 1.0) * inputs[2]
    return result


def _reshape(inputs: list[Any], attributes: dict[str, Any]) -> torch.Tensor:
    x, shape = inputs[0], [int(v) for v in inputs[1].tolist()]
    shape = [x.shape[i] if v == 0 and not attributes.get("allowzero", 0) else v for i, v in enumerate(shape)]
    return x.reshape(shape)


def _clip(inputs: list[Any], attributes: dict[str, Any]) -> torch.Tensor:
    low = inputs[1] if len(inputs) > 1 and inputs[1] is not None else attributes.get("min")
    high = inputs[2] if len(inputs) > 2 and inputs[2] is not None else attributes.get("max")
    return torch.clamp(inputs[0], None if low is None else float(low), None if high is None else float(high))


OPERATORS: dict[str, Operator] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "Reshape": _reshape,
    "Clip": _clip,
    "Relu": lambda i, a: torch.relu(i[0]),
    "Sigmoid": lambda i, a: torch.sigmoid(i[0]),
    "Exp": lambda i, a: torch.exp(i[0]),
    "HardSwish": lambda i, a: F.hardswish(i[0]),
    "HardSigmoid": lambda i, a: torch.clamp(a.get("alpha", 0.2) * i[0] + a.get("beta", 0.5), 0.0, 1.0),
    "GlobalAveragePool": lambda i, a: i[0].mean(dim=(-2, -1), keepdim=True),
    "Add": lambda i, a: i[0] + i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "MatMul": lambda i, a: torch.matmul(i[0], i[1]),
    "Transpose": lambda i, a: i[0].permute(*a["perm"]),
}


class OnnxGraphModule(nn.Module):
    """Runs one ONNX graph (a ``ModelProto``) with torch: ``module(*inputs)`` returns its outputs in order.

    Raises:
        WeightsError: the graph uses an operator this module does not implement.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        from onnx import helper, numpy_helper

        graph = model.graph
        unsupported = sorted({node.op_type for node in graph.node} - set(OPERATORS))
        if unsupported:
            raise WeightsError(f"graph {graph.name!r} uses operators siamtrack cannot run with torch: "
                               f"{', '.join(unsupported)}")
        self._constants: dict[str, str] = {}
        for index, tensor in enumerate(graph.initializer):
            buffer_name = f"constant_{index}"
            self.register_buffer(buffer_name, torch.from_numpy(np.array(numpy_helper.to_array(tensor))))
            self._constants[tensor.name] = buffer_name
        self._nodes = [(node.op_type, list(node.input), list(node.output),
                        {a.name: helper.get_attribute_value(a) for a in node.attribute}) for node in graph.node]
        constant_names = set(self._constants)
        self.input_names = [value.name for value in graph.input if value.name not in constant_names]
        self.output_names = [value.name for value in graph.output]

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        values: dict[str, Any] = {name: getattr(self, buffer) for name, buffer in self._constants.items()}
        values.update(zip(self.input_names, inputs))
        values[""] = None  # an omitted optional input
        for op_type, names, outputs, attributes in self._nodes:
            values[outputs[0]] = OPERATORS[op_type]([values[name] for name in names], attributes)
        return tuple(values[name] for name in self.output_names)
