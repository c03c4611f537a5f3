"""The command line, driven as a user would: exit codes and one-line messages."""

import os
import subprocess
import sys

import pytest
import torch

from siamtrack.cli import main
from siamtrack.model.weights import load_weights, save_weights


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "siamtrack.cli", *args], capture_output=True, text=True,
                          timeout=120)


def test_weights_info(tmp_path, tiny_weights, capsys):
    save_weights(tiny_weights, tmp_path / "w.pth")
    assert main(["weights", "info", str(tmp_path / "w.pth")]) == 0
    out = capsys.readouterr().out
    assert "layout:         siamtrack" in out and "[8, 16, 16, 16, 8]" in out


def test_weights_info_of_the_built_in_models(capsys):
    assert main(["weights", "info", "default"]) == 0
    out = capsys.readouterr().out
    assert "siamtrack-default.pth" in out and "nanotrack layout" in out and "lost threshold: 0.9" in out
    assert main(["weights", "info", "v4"]) == 0
    out = capsys.readouterr().out
    assert "siamtrack-v4.pth" in out and "alexnet" in out and "lost threshold" not in out


def test_weights_convert_with_notes(tmp_path, tiny_weights, capsys):
    from tests.test_weights import to_siamfc_pytorch_layout

    torch.save(to_siamfc_pytorch_layout(tiny_weights), tmp_path / "in.pth")
    code = main(["weights", "convert", str(tmp_path / "in.pth"), str(tmp_path / "out.pth"),
                 "--note", "licence=MIT", "--input-color", "BGR"])
    assert code == 0
    converted = load_weights(tmp_path / "out.pth")
    assert converted.metadata.provenance["licence"] == "MIT"
    assert converted.metadata.input_color == "BGR"
    assert "wrote" in capsys.readouterr().out


def test_weights_convert_records_a_calibrated_lost_threshold(tmp_path, tiny_weights, capsys):
    save_weights(tiny_weights, tmp_path / "in.pth")
    assert main(["weights", "convert", str(tmp_path / "in.pth"), str(tmp_path / "calibrated.pth"),
                 "--lost-threshold", "0.8", "--note", "epoch=mean of 4-10"]) == 0
    calibrated = load_weights(tmp_path / "calibrated.pth")
    assert calibrated.metadata.lost_threshold == 0.8 and calibrated.metadata.provenance["epoch"] == "mean of 4-10"
    assert "lost threshold: 0.8" in capsys.readouterr().out
    assert main(["weights", "convert", str(tmp_path / "calibrated.pth"), str(tmp_path / "again.pth")]) == 0
    assert load_weights(tmp_path / "again.pth").metadata.lost_threshold == 0.8  # kept unless given
    result = run_cli("weights", "convert", str(tmp_path / "in.pth"), str(tmp_path / "bad.pth"), "--lost-threshold", "2")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.pth").exists()


def test_weights_average_writes_the_mean(tmp_path, tiny_weights, tiny_box_weights, capsys):
    from siamtrack.model.weights import ModelWeights

    doubled = ModelWeights(tiny_weights.metadata, {name: tensor * 3 if tensor.is_floating_point() else tensor
                                                   for name, tensor in tiny_weights.state_dict.items()})
    first, second = save_weights(tiny_weights, tmp_path / "a.pth"), save_weights(doubled, tmp_path / "b.pth")
    assert main(["weights", "average", str(first), str(second), "--output", str(tmp_path / "mean.pth")]) == 0
    mean = load_weights(tmp_path / "mean.pth")
    assert all(torch.allclose(mean.state_dict[name], tensor * 2) for name, tensor in tiny_weights.state_dict.items()
               if tensor.is_floating_point())
    assert mean.metadata.provenance["averaged_from"] == "a.pth, b.pth"
    other = save_weights(tiny_box_weights, tmp_path / "box.pth")
    capsys.readouterr()
    assert main(["weights", "average", str(first), str(other), "--output", str(tmp_path / "x.pth")]) == 2
    assert "another network" in capsys.readouterr().err and not (tmp_path / "x.pth").exists()
    assert main(["weights", "average", str(first), "--output", str(tmp_path / "x.pth")]) == 2


@pytest.mark.parametrize("make_args, message", [
    (lambda p: ["weights", "info", str(p / "missing.pth")], "not found"),
    (lambda p: ["weights", "info", str(p / "garbage.pth")], "not a PyTorch weights file"),
    (lambda p: ["weights", "convert", str(p / "garbage.pth"), str(p / "o.pth")], "garbage.pth"),
    (lambda p: ["weights", "convert", str(p / "w.pth"), str(p / "no" / "o.pth")], "does not exist"),
    (lambda p: ["weights", "convert", str(p / "w.pth"), str(p / "o.pth"), "--note", "oops"], "KEY=VALUE"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, tiny_weights, make_args, message):
    save_weights(tiny_weights, tmp_path / "w.pth")
    (tmp_path / "garbage.pth").write_bytes(b"\x00garbage")
    result = run_cli(*make_args(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siamtrack: error:") and message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.pth").exists()


def test_usage_errors_exit_2():
    assert run_cli("weights").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("siamtrack ")


@pytest.mark.parametrize("exported, expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_torch_threads_sleep_while_waiting_unless_the_user_says_otherwise(monkeypatch, exported, expected):
    if exported is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", exported)
    with pytest.raises(SystemExit):
        main(["--version"])
    assert os.environ["OMP_WAIT_POLICY"] == expected


def test_the_command_line_imports_torch_only_after_main_starts():
    """OpenMP reads OMP_WAIT_POLICY when torch is imported: main() must run first."""
    probe = "import sys, siamtrack.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
