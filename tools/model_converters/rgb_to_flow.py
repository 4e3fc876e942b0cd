"""Make an RGB checkpoint fit a flow network: cross-modality initialisation.

The input conv's weights are averaged over the RGB channels and replicated to
the flow input's channels (TSN, ECCV 2016, section 3.2); every other tensor is
copied. See kinet_mm/converters/cross_modality.py for why this is a converted
checkpoint and not an ``init_cfg`` initialiser.

Examples::

    # ImageNet ResNet-50 for TSN flow (5 stacked x/y frames = 10 channels),
    # then backbone.pretrained=checkpoints/resnet50-11ad3fa6_flow10.pth
    python tools/model_converters/rgb_to_flow.py \\
        https://download.pytorch.org/models/resnet50-11ad3fa6.pth \\
        checkpoints/resnet50-11ad3fa6_flow10.pth --in-channels 10

    # the real-clip RGB stream for the real-clip flow stream
    python tools/model_converters/rgb_to_flow.py \\
        work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3.pth \\
        work_dirs/tsn_r50_1x1x3_realclips-cpu/epoch_3_flow10.pth --in-channels 10
"""
import argparse

from kinet_mm.converters import convert_rgb_to_flow


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cross-modality initialisation of a flow checkpoint')
    parser.add_argument(
        'src', help='RGB checkpoint (path, torchvision://, '
        'https://)')
    parser.add_argument('dst', help='where to write the flow checkpoint')
    parser.add_argument(
        '--in-channels',
        type=int,
        required=True,
        help='flow input channels: 2 x stacked flow frames '
        '(TSN: 10; I3D: 2)')
    parser.add_argument(
        '--key',
        help='the input conv weight (default: the '
        'first conv weight with 3 input channels)')
    parser.add_argument(
        '--time',
        type=int,
        help='also inflate a 2D kernel to '
        'this temporal size (I3D section 2.4)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_rgb_to_flow(
        args.src, args.dst, args.in_channels, key=args.key, time=args.time)


if __name__ == '__main__':
    main()
