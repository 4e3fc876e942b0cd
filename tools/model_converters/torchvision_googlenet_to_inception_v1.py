"""Convert torchvision's ImageNet GoogLeNet into kinet_mm's 2D InceptionV1
checkpoint, the starting point that I3D inflates (docs/i3d.md).

Example::

    python tools/model_converters/torchvision_googlenet_to_inception_v1.py \\
        googlenet-1378be20.pth checkpoints/inception_v1_imagenet.pth
    # then: --cfg-options \
    #     model.backbone.pretrained=checkpoints/inception_v1_imagenet.pth
"""
import argparse

from kinet_mm.converters import convert_torchvision_googlenet


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert torchvision GoogLeNet weights to InceptionV1')
    parser.add_argument('src', help="torchvision's googlenet-*.pth")
    parser.add_argument('dst', help='where to write the InceptionV1 checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_torchvision_googlenet(args.src, args.dst)


if __name__ == '__main__':
    main()
