"""Convert Single-Human-Parsing-LIP's PSPNet-DenseNet-121 (``PSPNet_last``) into
the MMSeg checkpoint of ``configs/teachers/pspnet_densenet121_lip.py``.

Example::

    python tools/model_converters/lip_pspnet_to_mmseg.py \\
        checkpoints/densenet/PSPNet_last \\
        checkpoints/teachers/pspnet_densenet121_lip.pth
"""
import argparse

from mmengine.config import DictAction

from kinet_mm.converters import convert_lip_pspnet
from kinet_mm.converters.teacher_checkpoints import LIP_CONFIG


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the LIP PSPNet-DenseNet-121 to MMSeg')
    parser.add_argument('src', help='the published PSPNet_last state dict')
    parser.add_argument('dst', help='where to write the MMSeg checkpoint')
    parser.add_argument(
        '--config',
        default=LIP_CONFIG,
        help='teacher config whose network the checkpoint must fit')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the teacher config, key=value pairs')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_lip_pspnet(
        args.src, args.dst, config=args.config, cfg_options=args.cfg_options)


if __name__ == '__main__':
    main()
