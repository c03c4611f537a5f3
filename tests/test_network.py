import pytest
import torch

from siamtrack.model.metadata import ModelMetadata
from siamtrack.network.backbones import AlexNetBackbone
from siamtrack.network.correlation import cross_correlate
from siamtrack.network.siamese import SiameseNet


@pytest.mark.parametrize("widths", [(96, 256, 384, 384, 256), (8, 16, 16, 16, 8)])
def test_alexnet_output_sizes(widths):
    net = AlexNetBackbone(widths).eval()
    with torch.no_grad():
        assert net(torch.zeros(1, 3, 127, 127)).shape == (1, widths[-1], 6, 6)
        assert net(torch.zeros(2, 3, 255, 255)).shape == (2, widths[-1], 22, 22)


def test_odd_width_before_grouped_conv_is_rejected():
    with pytest.raises(ValueError, match="divide by 2"):
        AlexNetBackbone((7, 16, 16, 16, 8))


def test_folding_batch_norm_keeps_outputs(tiny_weights):
    net = SiameseNet(tiny_weights.metadata)
    net.load_state_dict(dict(tiny_weights.state_dict))
    net.eval()
    folded = net.fold_batch_norm()
    assert not folded.metadata.batch_norm
    crops = torch.randint(0, 256, (3, 255, 255, 3), dtype=torch.uint8)
    exemplar = torch.randint(0, 256, (3, 127, 127, 3), dtype=torch.uint8)
    with torch.no_grad():
        expected = net(exemplar, crops)
        actual = folded(exemplar, crops)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("crops, per_crop", [(1, 3), (3, 1), (2, 5), (4, 2)])
def test_grouped_correlation_matches_one_crop_and_kernel_at_a_time(crops, per_crop):
    torch.manual_seed(0)
    kernels = torch.randn(crops * per_crop, 4, 6, 6)
    search = torch.randn(crops, 4, 22, 22)
    grouped = cross_correlate(kernels, search, 0.001, 0.5)
    assert grouped.shape == (crops * per_crop, 17, 17)
    for crop in range(crops):
        for k in range(per_crop):
            index = crop * per_crop + k
            single = cross_correlate(kernels[index:index + 1], search[crop:crop + 1], 0.001, 0.5)
            torch.testing.assert_close(grouped[index:index + 1], single, rtol=1e-5, atol=1e-6)


def test_correlation_needs_whole_groups():
    with pytest.raises(ValueError, match="evenly"):
        cross_correlate(torch.zeros(2, 4, 6, 6), torch.zeros(3, 4, 22, 22), 1.0)


def test_correlation_peaks_where_the_exemplar_is():
    torch.manual_seed(1)
    search = torch.randn(1, 8, 22, 22)
    kernels = search[:, :, 5:11, 9:15].clone()
    response = cross_correlate(kernels, search, 1.0)[0]
    assert divmod(int(response.argmax()), 17) == (5, 9)


@pytest.mark.parametrize("color", ["RGB", "BGR"])
def test_preprocess_color_order_and_normalisation(color):
    meta = ModelMetadata(architecture="alexnet", widths=(8, 16, 16, 16, 8), batch_norm=False,
                         input_color=color, input_mean=(10.0, 20.0, 30.0), input_std=(2.0, 2.0, 2.0))
    crops = torch.zeros(1, 4, 4, 3, dtype=torch.uint8)
    crops[..., 0], crops[..., 1], crops[..., 2] = 100, 150, 200  # B, G, R
    out = SiameseNet(meta).preprocess(crops)
    expected_order = [200, 150, 100] if color == "RGB" else [100, 150, 200]
    for channel, value in enumerate(expected_order):
        assert out[0, channel].unique().item() == pytest.approx((value - meta.input_mean[channel]) / 2.0)


def test_search_cost_counts_alexnet_by_hand():
    from siamtrack.network.cost import search_cost

    w1, w2, w3, w4, w5 = widths = (8, 16, 16, 16, 8)
    network = SiameseNet(ModelMetadata(architecture="alexnet", widths=widths, batch_norm=True))
    # 255 px: conv1 11x11/2 -> 123, pool -> 61, conv2 5x5 (2 groups) -> 57, pool -> 28, then 3x3 convs
    # -> 26, 24 (2 groups), 22 (2 groups); the 127 px exemplar gives 6x6 kernels, so 17x17 responses.
    by_hand = (123 ** 2 * w1 * 3 * 121 + 57 ** 2 * w2 * (w1 // 2) * 25 + 26 ** 2 * w3 * w2 * 9
               + 24 ** 2 * w4 * (w3 // 2) * 9 + 22 ** 2 * w5 * (w4 // 2) * 9)
    cost = search_cost(network)
    assert cost.backbone_macs == by_hand
    assert cost.correlation_macs == w5 * 6 * 6 * 17 * 17
    assert cost.total_macs(kernels=3) == by_hand + 3 * cost.correlation_macs
    assert cost.parameters == sum(p.numel() for p in network.backbone.parameters())
    assert network.training  # the count leaves the network as it found it
