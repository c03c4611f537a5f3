"""The command line says exactly what the code accepts: one list per thing, read by the parser, the
errors and the docs; no stale words (a retired model, doubled prefixes, numbers that go stale)."""

import re

import pytest

from siamtrack.cli import build_parser
from siamtrack.io.formats import RESULT_FORMATS, VIDEO_CODECS
from siamtrack.model.builtin import BUILTIN_MODELS
from tests.cli_helpers import siamtrack


def help_text(*command):
    parser = build_parser()
    for action in parser._subparsers._group_actions:  # argparse keeps subparsers only there
        if command:
            return action.choices[command[0]].format_help()
    return parser.format_help()


@pytest.mark.parametrize("command", ["track", "eval", "batch", "demo"])
def test_model_option_lists_the_built_in_models_and_no_retired_one(command):
    text = " ".join(help_text(command).split())
    assert "built-in model: " + ", ".join(BUILTIN_MODELS) in text or "built-in model: default" in text
    assert "fast" not in re.findall(r"built-in model[^)]*\)", text)[0]


def test_output_and_results_help_list_exactly_what_the_writers_accept():
    text = " ".join(help_text("track").split())
    for suffix in VIDEO_CODECS:
        assert suffix in text.split("annotated video:")[1].split("--")[0]
    results = text.split("format by extension:")[1].split("repeatable")[0]
    assert [s for s in re.findall(r"\.[a-z]+", results.split("(")[0])] == list(RESULT_FORMATS)
    assert ".json " not in results and ".json," not in results


def test_no_help_text_quotes_a_measured_number():
    for command in ("track", "eval", "batch", "demo", "train", "export"):
        text = help_text(command)
        assert not re.search(r"\d+(\.\d+)?\s*(fps|ms|x NanoTrack|% faster)", text), command


def test_eval_names_each_tracker_once_per_line(tmp_path, clip):
    import cv2

    from siamtrack.app.synthetic import ClipSpec  # noqa: F401  (the clip fixture's spec)

    folder = tmp_path / "data" / "seq"
    (folder / "img").mkdir(parents=True)
    frames, boxes = clip
    for index, frame in enumerate(frames[:4]):
        cv2.imwrite(str(folder / "img" / f"{index + 1:04d}.jpg"), frame)
    (folder / "groundtruth_rect.txt").write_text("".join(f"{b[0] + 1},{b[1] + 1},{b[2]},{b[3]}\n" for b in boxes[:4]))
    result = siamtrack("eval", tmp_path / "data", "--trackers", "siamtrack", "--report", tmp_path / "rep",
                       "--threads", "1")
    assert result.returncode == 0, result.stderr
    assert "siamtrack: siamtrack:" not in result.stderr
    assert "tracker 'siamtrack': backend" in result.stderr


@pytest.mark.parametrize("command", ["track", "serve", "batch"])
def test_the_config_default_named_in_help_is_what_a_model_gets(command):
    from siamtrack.config import HEAD_PRESETS, default_preset

    text = " ".join(help_text(command).split())
    assert f"default: the model's own: {default_preset('nanotrack')} for a NanoTrack-layout model" in text
    assert f"{default_preset('response')} for a SiamFC one" in text
    assert all(preset in text for preset in HEAD_PRESETS.values())
