import pickle

import pytest
import torch

from siamtrack.errors import WeightsError
from siamtrack.model.metadata import ModelMetadata
from siamtrack.model.weights import (
    FORMAT_NAME,
    ModelWeights,
    convert,
    describe,
    load_weights,
    save_weights,
    weights_layout,
)
from siamtrack.network.siamese import SiameseNet


def to_siamfc_pytorch_layout(weights):
    """Rename a siamtrack state dict (with BN) the way siamfc-pytorch names it."""
    renamed = {}
    for key, tensor in weights.state_dict.items():
        module, name = key.split(".")[1], key.split(".")[2]
        index = module[-1]
        part = "0" if module.startswith("conv") else "1"
        renamed[f"backbone.conv{index}.{part}.{name}"] = tensor.clone()
    return renamed


def folded_layout(weights):
    net = SiameseNet(weights.metadata)
    net.load_state_dict(dict(weights.state_dict))
    return {k: v.clone() for k, v in net.eval().fold_batch_norm().state_dict().items()}


def responses_of(weights, seed=0):
    from siamtrack.backends.torch_backend import TorchBackend

    generator = torch.Generator().manual_seed(seed)
    exemplar = torch.randint(0, 256, (1, 127, 127, 3), dtype=torch.uint8, generator=generator).numpy()
    search = torch.randint(0, 256, (3, 255, 255, 3), dtype=torch.uint8, generator=generator).numpy()
    backend = TorchBackend(weights, device="cpu", cpu_graph="eager")
    return backend.track(search, backend.stack([backend.template(exemplar)] * 3))


def test_detect_layouts(tiny_weights):
    assert weights_layout({"format": FORMAT_NAME}) == "siamtrack"
    assert weights_layout(to_siamfc_pytorch_layout(tiny_weights)) == "siamfc-pytorch"
    assert weights_layout(folded_layout(tiny_weights)) == "bn-folded"
    with pytest.raises(WeightsError, match="unrecognised"):
        weights_layout({"features.0.weight": torch.zeros(1)})
    with pytest.raises(WeightsError, match="unrecognised"):
        weights_layout([1, 2, 3])


@pytest.mark.parametrize("layout", ["siamfc-pytorch", "bn-folded"])
def test_import_and_round_trip_generated(tmp_path, tiny_weights, layout):
    content = to_siamfc_pytorch_layout(tiny_weights) if layout == "siamfc-pytorch" else folded_layout(tiny_weights)
    source = tmp_path / "foreign.pth"
    torch.save(content, source)
    imported = load_weights(source)
    assert imported.layout == layout
    assert imported.metadata.widths == (8, 16, 16, 16, 8)
    assert imported.metadata.batch_norm == (layout == "siamfc-pytorch")
    converted = convert(source, tmp_path / "ours.pth", provenance={"licence": "test"})
    reloaded = load_weights(tmp_path / "ours.pth")
    assert reloaded.layout == "siamtrack" and converted.layout == "siamtrack"
    assert reloaded.metadata == converted.metadata
    assert reloaded.metadata.provenance["licence"] == "test"
    assert len(reloaded.metadata.provenance["source_sha256"]) == 64
    assert reloaded.state_dict.keys() == imported.state_dict.keys()
    for key in imported.state_dict:
        assert torch.equal(reloaded.state_dict[key], imported.state_dict[key]), key
    assert (responses_of(reloaded) == responses_of(imported)).all()


def test_siamfc_pytorch_layout_uses_bn_eps_1e6(tmp_path, tiny_weights):
    source = tmp_path / "foreign.pth"
    torch.save(to_siamfc_pytorch_layout(tiny_weights), source)
    assert load_weights(source).metadata.bn_eps == 1e-6


def test_folded_and_bn_layouts_agree(tmp_path, tiny_weights):
    """The same network, stored with BN and BN-folded, gives the same responses."""
    torch.save(to_siamfc_pytorch_layout(tiny_weights), tmp_path / "bn.pth")
    bn = load_weights(tmp_path / "bn.pth")
    meta = ModelMetadata(architecture="alexnet", widths=bn.metadata.widths, batch_norm=True, bn_eps=1e-6)
    net = SiameseNet(meta)
    net.load_state_dict(dict(bn.state_dict))
    torch.save({k: v for k, v in net.eval().fold_batch_norm().state_dict().items()}, tmp_path / "folded.pth")
    folded = load_weights(tmp_path / "folded.pth")
    torch.testing.assert_close(torch.from_numpy(responses_of(folded)), torch.from_numpy(responses_of(bn)),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fixture_name, layout, widths", [
    ("fdsiamfc_path", "siamfc-pytorch", (28, 76, 114, 114, 76)),
    ("reference_weights_path", "bn-folded", (96, 256, 384, 384, 256)),
])
def test_real_files_round_trip(request, tmp_path, fixture_name, layout, widths):
    path = request.getfixturevalue(fixture_name)
    original = load_weights(path)
    assert original.layout == layout and original.metadata.widths == widths
    convert(path, tmp_path / "converted.pth")
    converted = load_weights(tmp_path / "converted.pth")
    assert (responses_of(converted) == responses_of(original)).all()


def test_metadata_override_on_import(tmp_path, tiny_weights):
    torch.save(folded_layout(tiny_weights), tmp_path / "f.pth")
    assert load_weights(tmp_path / "f.pth", input_color="BGR").metadata.input_color == "BGR"
    with pytest.raises(WeightsError, match="unknown model metadata"):
        load_weights(tmp_path / "f.pth", color="BGR")


@pytest.mark.parametrize("payload", [b"", b"not a torch file at all", b"PK\x03\x04broken zip"])
def test_corrupt_files(tmp_path, payload):
    path = tmp_path / "bad.pth"
    path.write_bytes(payload)
    with pytest.raises(WeightsError, match="bad.pth"):
        load_weights(path)


def test_truncated_file(tmp_path, tiny_weights):
    save_weights(tiny_weights, tmp_path / "good.pth")
    data = (tmp_path / "good.pth").read_bytes()
    (tmp_path / "cut.pth").write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="corrupt or truncated"):
        load_weights(tmp_path / "cut.pth")


class _Payload:
    """Unpickling this would run open() on a path that cannot exist; the OSError would show it ran."""

    def __reduce__(self):
        return (open, ("/nonexistent-dir/never-created", "w"))


def test_pickled_code_is_never_run(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"backbone.conv1.weight": _Payload()}, handle, protocol=2)
    with pytest.raises(WeightsError, match="never loads"):
        load_weights(path)


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "nope.pth")


def test_mismatched_shapes(tmp_path, tiny_weights):
    content = folded_layout(tiny_weights)
    content["backbone.conv3.weight"] = torch.zeros(16, 5, 3, 3)
    torch.save(content, tmp_path / "m.pth")
    with pytest.raises(WeightsError, match="wrong shape backbone.conv3.weight"):
        load_weights(tmp_path / "m.pth")


def test_missing_layer(tmp_path, tiny_weights):
    content = {k: v for k, v in folded_layout(tiny_weights).items() if not k.startswith("backbone.conv4")}
    torch.save(content, tmp_path / "m.pth")
    with pytest.raises(WeightsError, match="missing layers conv4"):
        load_weights(tmp_path / "m.pth")


def test_siamtrack_file_checks(tmp_path, tiny_weights):
    path = save_weights(tiny_weights, tmp_path / "w.pth")
    content = torch.load(path, weights_only=True)
    assert content["format"] == FORMAT_NAME and content["format_version"] == 1
    for change, message in [({"format_version": 99}, "version 99"),
                            ({"metadata": {**content["metadata"], "color": "RGB"}}, "unknown model metadata"),
                            ({"metadata": {**content["metadata"], "architecture": "vgg"}}, "unknown architecture"),
                            ({"state_dict": None}, "lacks")]:
        torch.save({**content, **change}, tmp_path / "x.pth")
        with pytest.raises(WeightsError, match=message):
            load_weights(tmp_path / "x.pth")
    with pytest.raises(WeightsError, match="cannot be overridden"):
        load_weights(path, input_color="BGR")


def test_files_written_with_the_old_spelling_still_load(tmp_path, tiny_weights):
    content = torch.load(save_weights(tiny_weights, tmp_path / "w.pth"), weights_only=True)
    metadata = dict(content["metadata"])
    metadata["input_colour"] = metadata.pop("input_color")
    torch.save({**content, "metadata": metadata}, tmp_path / "old.pth")
    assert load_weights(tmp_path / "old.pth").metadata == tiny_weights.metadata


def test_save_is_atomic_and_leaves_no_temporaries(tmp_path, tiny_weights):
    save_weights(tiny_weights, tmp_path / "w.pth")
    assert [p.name for p in tmp_path.iterdir()] == ["w.pth"]
    with pytest.raises(WeightsError, match="does not exist"):
        save_weights(tiny_weights, tmp_path / "missing" / "w.pth")


def test_describe(tiny_weights):
    text = describe(ModelWeights(tiny_weights.metadata, tiny_weights.state_dict, "siamtrack", "x.pth"))
    assert "widths [8, 16, 16, 16, 8]" in text and "RGB" in text and "x 0.001" in text


def hostile(tmp_path, tiny_weights, change_tensors=None, **metadata):
    """The tiny network's file with some tensors or metadata values replaced."""
    content = torch.load(save_weights(tiny_weights, tmp_path / "w.pth"), weights_only=True)
    if change_tensors is not None:
        content["state_dict"] = change_tensors(dict(content["state_dict"]))
    content["metadata"] = {**content["metadata"], **metadata}
    torch.save(content, tmp_path / "hostile.pth")
    return tmp_path / "hostile.pth"


@pytest.mark.parametrize("change, message", [
    (lambda sd: {**sd, "backbone.conv1.weight": torch.full_like(sd["backbone.conv1.weight"], float("nan"))},
     "backbone.conv1.weight holds NaN or infinite values"),
    (lambda sd: {**sd, "backbone.conv2.bias": sd["backbone.conv2.bias"] / 0.0}, "holds NaN or infinite"),
    (lambda sd: {k: v.to(torch.int64) if k.endswith("weight") else v for k, v in sd.items()}, "holds torch.int64"),
])
def test_tensors_that_cannot_be_a_working_network_are_refused(tmp_path, tiny_weights, change, message):
    with pytest.raises(WeightsError, match=message):
        load_weights(hostile(tmp_path, tiny_weights, change))


@pytest.mark.parametrize("field, value, message", [
    ("exemplar_size", 10 ** 9, r"exemplar_size must be a whole number in \[8, 2048\]"),
    ("instance_size", 0, "instance_size must be"),
    ("total_stride", 0, r"total_stride must be a whole number in \[1, 64\]"),
    ("total_stride", 8.5, "total_stride must be"),
    ("widths", [8, 16, 16, 16, 0], "widths must be"),
    ("response_scale", float("nan"), "response_scale must be finite and > 0"),
    ("input_std", [1.0, 0.0, 1.0], "input_std need|input_std must be"),
    ("bn_eps", -1.0, "bn_eps must be finite and > 0"),
])
def test_metadata_outside_sane_ranges_is_refused_naming_the_field(tmp_path, tiny_weights, field, value, message):
    path = hostile(tmp_path, tiny_weights, **{field: value})
    with pytest.raises(WeightsError, match=message):
        load_weights(path)
    from tests.cli_helpers import siamtrack

    info = siamtrack("weights", "info", path)  # weights info says the same, in one line
    assert info.returncode == 2 and len(info.stderr.strip().splitlines()) == 1 and field in info.stderr


def test_a_folder_or_fifo_given_as_weights_says_what_it_is(tmp_path):
    import os

    (tmp_path / "folder").mkdir()
    with pytest.raises(WeightsError, match="is a folder, not a weights file"):
        load_weights(tmp_path / "folder")
    os.mkfifo(tmp_path / "pipe.pth")
    with pytest.raises(WeightsError, match="not a regular file"):  # and never opened: reading it would block
        load_weights(tmp_path / "pipe.pth")
