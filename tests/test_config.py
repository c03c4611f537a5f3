import json

import pytest

from siamtrack.config import TrackerConfig, load_config, preset_names
from siamtrack.errors import ConfigError


def test_defaults_are_siamfc_3s():
    config = TrackerConfig()
    assert config.scale_search == "pyramid" and config.kernels_per_target == 1
    assert config.response_upsample == 16
    assert (config.scale_count, config.scale_step, config.scale_penalty, config.scale_lr) == (3, 1.0375, 0.9745, 0.59)
    assert config.window_influence == 0.176 and config.context_amount == 0.5
    assert (config.min_size_factor, config.max_size_factor) == (0.2, 5.0)


def test_presets():
    assert {"siamfc-3s", "siamfc-5s"} <= set(preset_names())
    assert load_config("siamfc-3s") == TrackerConfig()
    single = load_config("single-pass")
    assert single == TrackerConfig(scale_search="single") and single.kernels_per_target == 3
    five = load_config("siamfc-5s")
    assert (five.scale_count, five.scale_step, five.scale_penalty, five.scale_lr, five.window_influence) == (
        5, 1.0255, 0.962, 0.34, 0.168)


def test_frozen():
    with pytest.raises(AttributeError):
        TrackerConfig().scale_lr = 0.1  # type: ignore[misc]


@pytest.mark.parametrize("values, message", [
    ({"scale_lrr": 0.5}, "unknown tracker config key"),
    ({"scale_count": 4}, "odd"),
    ({"scale_count": 0}, "odd"),
    ({"scale_count": 3.5}, "integer"),
    ({"scale_step": 0.9}, "scale_step"),
    ({"window_influence": 1.5}, "window_influence"),
    ({"scale_penalty": 0}, "scale_penalty"),
    ({"min_size_factor": 2.0}, "min_size_factor"),
    ({"instance_size": 255}, "unknown tracker config key"),  # crop sizes are the model's
    ({"scale_search": "pyramids"}, "scale_search must be one of single, pyramid"),
    ({"scale_search": 1}, "must be a string"),
    ({"scale_lr": "fast"}, "must be a number"),
    ({"scale_lr": True}, "must be a number"),
    ({"lost_patience": 0}, "lost_patience"),
])
def test_invalid_values_are_errors(values, message):
    with pytest.raises(ConfigError, match=message):
        TrackerConfig.from_dict(values)


def test_not_a_mapping():
    with pytest.raises(ConfigError, match="mapping"):
        TrackerConfig.from_dict([1, 2])  # type: ignore[arg-type]


def test_replace_validates():
    assert TrackerConfig().replace(scale_lr=0.3).scale_lr == 0.3
    with pytest.raises(ConfigError):
        TrackerConfig().replace(bogus=1)


def test_round_trip_dict():
    config = load_config("siamfc-5s")
    assert TrackerConfig.from_dict(config.to_dict()) == config


def test_load_config_file(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"window_influence": 0.2}))
    assert load_config(path).window_influence == 0.2
    path.write_text(json.dumps({"windowinfluence": 0.2}))
    with pytest.raises(ConfigError, match="unknown"):
        load_config(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)
    with pytest.raises(ConfigError, match="no tracker config"):
        load_config(tmp_path / "missing.json")


def test_single_pass_fallback_preset():
    config = load_config("single-pass-fallback")
    assert config.scale_search == "single" and config.pyramid_below == 0.7
