"""Convert CSAILVision's PyTorch Places365 ResNet-18/50 (``.pth.tar``) into the
MMPretrain checkpoint of ``configs/teachers/resnet{18,50}_places365.py``.

Example::

    python tools/model_converters/places365_pytorch_to_mmpretrain.py \\
        resnet50_places365.pth.tar checkpoints/teachers/resnet50_places365.pth \\
        --config configs/teachers/resnet50_places365.py
"""
import argparse

from mmengine.config import DictAction

from kinet_mm.converters import convert_places365_pytorch
from kinet_mm.converters.teacher_checkpoints import PLACES365_PYTORCH_CONFIG


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a PyTorch Places365 ResNet to MMPretrain')
    parser.add_argument('src', help='the published .pth.tar')
    parser.add_argument('dst', help='where to write the MMPretrain checkpoint')
    parser.add_argument(
        '--config',
        default=PLACES365_PYTORCH_CONFIG,
        help='teacher config whose network the checkpoint must fit '
        '(resnet50_places365.py for the ResNet-50)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the teacher config, key=value pairs')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_places365_pytorch(
        args.src, args.dst, config=args.config, cfg_options=args.cfg_options)


if __name__ == '__main__':
    main()
