"""Convert TSN's ImageNet BN-Inception (``pretrainedmodels.bninception``'s
``bn_inception-52deb4733.pth``, Caffe layer names) into the checkpoint that the
BN-Inception configs load (``init_cfg=dict(type='Pretrained', ...)``).

Example::

    python tools/model_converters/bninception_to_kinet.py \\
        bn_inception-52deb4733.pth checkpoints/bninception_imagenet.pth

The converted backbone reads RGB frames minus ``[128, 117, 104]`` with std 1,
the data preprocessor of the BN-Inception configs.
"""
import argparse

from kinet_mm.converters import convert_bninception


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert Caffe-named BN-Inception weights to kinet_mm')
    parser.add_argument('src', help='the published .pth (Caffe layer names)')
    parser.add_argument('dst', help='where to write the BNInception checkpoint')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_bninception(args.src, args.dst)


if __name__ == '__main__':
    main()
