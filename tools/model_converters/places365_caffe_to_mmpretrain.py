"""Convert CSAILVision's Caffe ResNet-152 Places365 (``.caffemodel``) into the
MMPretrain checkpoint of ``configs/teachers/resnet152_places365.py``.

No Caffe needed: the file is read as protobuf. Example::

    python tools/model_converters/places365_caffe_to_mmpretrain.py \\
        resnet152_places365.caffemodel \\
        checkpoints/teachers/resnet152_places365.pth \\
        --mean-file places365CNN_mean.binaryproto
"""
import argparse

from mmengine.config import DictAction

from kinet_mm.converters import convert_places365_caffe
from kinet_mm.converters.teacher_checkpoints import PLACES365_CAFFE_CONFIG


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a Caffe Places365 ResNet to MMPretrain')
    parser.add_argument('src', help='the published .caffemodel')
    parser.add_argument('dst', help='where to write the MMPretrain checkpoint')
    parser.add_argument(
        '--config',
        default=PLACES365_CAFFE_CONFIG,
        help='teacher config whose network the checkpoint must fit')
    parser.add_argument(
        '--mean-file',
        help='places365CNN_mean.binaryproto: check the config\'s mean against it')
    parser.add_argument('--fc-name', default='fc365', help='the Caffe classifier layer')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the teacher config, key=value pairs')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    convert_places365_caffe(
        args.src,
        args.dst,
        config=args.config,
        cfg_options=args.cfg_options,
        mean_file=args.mean_file,
        fc_name=args.fc_name)


if __name__ == '__main__':
    main()
