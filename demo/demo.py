"""KINet demo: top-5 actions, what each knowledge branch predicts, Grad-CAM.

Example (paper Figure 5, KINet beside TSN)::

    python demo/demo.py configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py \\
        work_dirs/demo/kinet/epoch_10.pth \\
        ../shared/data/real_clips/videos/arm_wrestling.mp4 \\
        --tsn-config configs/tsn/tsn_efficientnet-lite2_1x1x3_realclips-cpu.py \\
        --tsn-checkpoint work_dirs/demo/tsn/epoch_10.pth --device cpu

A model exported by MMDeploy (docs/deploy.md) scores videos with the same
command: give the exported file as the checkpoint and ``--backend-model``
(action scores only: an exported model has no knowledge branch output and no
gradients for Grad-CAM)::

    python demo/demo.py configs/kinet/kinet_efficientnet-lite2_1x1x3_realclips-cpu_cache.py \\
        work_dirs/deploy/ort/end2end.onnx ../shared/data/real_clips/videos/arm_wrestling.mp4 \\
        --backend-model --device cpu

Writes, per video, ``<out-dir>/<video stem>/``: ``summary.png`` (a column per
sampled frame: input, the student's knowledge branches (human mask, top-3
scenes, ...), KINet Grad-CAM,
TSN Grad-CAM), ``frames/frame_<t>.png`` (the panels of input frame ``t``), an
animation of those panels (``<stem>.gif`` or ``.mp4``) and ``result.json``.
"""
import argparse
import json
import os
import os.path as osp
import sys

import torch
from mmengine.config import DictAction
from mmengine.logging import MMLogger
from mmengine.utils import track_iter_progress

from kinet_mm.apis import (action_class_names, class_activation_maps, inference_kinet,
                           init_deployed, init_kinet, prepare_video)
from kinet_mm.apis.checkpoint import CheckpointMismatchError
from kinet_mm.apis.labels import LabelMapError
from kinet_mm.compat import VideoReadError
from kinet_mm.visualization import (figure_to_array, frame_figure, result_summary,
                                    summary_figure, write_animation)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='KINet config')
    parser.add_argument(
        'checkpoint',
        help='KINet checkpoint, or with '
        '--backend-model a model exported by MMDeploy')
    parser.add_argument('videos', nargs='+', help='one or more video files')
    parser.add_argument(
        '--label-map',
        help='action names, one a line '
        "(default: the config's dataset classes)")
    parser.add_argument(
        '--knowledge-label-map',
        nargs='+',
        action=DictAction,
        metavar='TASK=FILE',
        help='class names of a knowledge '
        'task, one a line, e.g. scene=places365.txt (default: '
        "from the task's teacher)")
    parser.add_argument('--out-dir', default='work_dirs/kinet_demo')
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='e.g. cpu, cuda:0')
    parser.add_argument(
        '--backend-model',
        action='store_true',
        help='the checkpoint is an exported model: '
        'end2end.onnx (ONNX Runtime) or end2end.pt '
        '(TorchScript), run through MMDeploy')
    parser.add_argument(
        '--deploy-cfg',
        help='deploy config of the export '
        '(default: from the file extension)')
    parser.add_argument('--tsn-config', help='TSN config for Figure 5')
    parser.add_argument('--tsn-checkpoint', help='TSN checkpoint for Figure 5')
    parser.add_argument(
        '--target-layer-name',
        help='KINet Grad-CAM layer, '
        "e.g. 'backbone/net/layer4/1' (default: the action "
        'map the head reads)')
    parser.add_argument(
        '--no-gradcam',
        action='store_true',
        help='skip the Grad-CAM maps (no backward pass)')
    parser.add_argument('--video-format', choices=('gif', 'mp4'), default='gif')
    parser.add_argument(
        '--fps', type=float, default=2.0, help='frames per second of the animation')
    parser.add_argument('--max-summary-frames', type=int, default=8)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the KINet config, e.g. '
        'test_pipeline.1.num_clips=25 for more frames')
    args = parser.parse_args()
    if bool(args.tsn_config) != bool(args.tsn_checkpoint):
        parser.error('--tsn-config and --tsn-checkpoint go together')
    if args.deploy_cfg and not args.backend_model:
        parser.error('--deploy-cfg needs --backend-model')
    if args.backend_model:
        args.no_gradcam = True  # an exported model has no gradients
    return args


def write_video_outputs(result, out_dir: str, stem: str, tasks, names: dict, tsn_cam,
                        args) -> None:
    """Summary PNG, one PNG per input frame, the animation and result.json."""
    os.makedirs(osp.join(out_dir, 'frames'), exist_ok=True)
    fig = summary_figure(
        result,
        names['action'],
        tasks,
        names['knowledge'],
        tsn_cam,
        max_frames=args.max_summary_frames,
        title=f'{stem}: ')
    fig.savefig(osp.join(out_dir, 'summary.png'), dpi=100)
    rendered = []
    for t in track_iter_progress(range(len(result.frames))):
        fig = frame_figure(result, t, names['action'], tasks, names['knowledge'],
                           tsn_cam)
        fig.savefig(osp.join(out_dir, 'frames', f'frame_{t:03d}.png'), dpi=100)
        rendered.append(figure_to_array(fig))
    write_animation(
        rendered, osp.join(out_dir, f'{stem}.{args.video_format}'), fps=args.fps)
    with open(osp.join(out_dir, 'result.json'), 'w') as f:
        json.dump(
            result_summary(result, names['action'], tasks, names['knowledge']),
            f,
            indent=1)


def main() -> int:
    args = parse_args()
    logger = MMLogger.get_instance('kinet_demo', log_level='INFO')
    try:
        if args.backend_model:
            model = init_deployed(args.config, args.checkpoint, args.device,
                                  args.deploy_cfg, args.cfg_options)
        else:
            model = init_kinet(args.config, args.checkpoint, args.device,
                               args.cfg_options)
        tsn = init_kinet(args.tsn_config, args.tsn_checkpoint,
                         args.device) if args.tsn_config else None
        tasks = getattr(model, 'distilling', {})
        label_maps = args.knowledge_label_map or {}
        names = dict(
            action=action_class_names(model.cfg, model.cfg.model.cls_head.num_classes,
                                      args.label_map),
            knowledge={
                name: task.class_names(label_maps.get(name))
                for name, task in tasks.items()
            })
    except (FileNotFoundError, CheckpointMismatchError, LabelMapError,
            ValueError) as err:
        logger.error(str(err))
        return 1
    failed = []
    for video in args.videos:
        try:
            data = prepare_video(model, video)
        except (FileNotFoundError, VideoReadError) as err:
            logger.error(str(err))
            failed.append(video)
            continue
        result = inference_kinet(
            model,
            data,
            gradcam=not args.no_gradcam,
            target_layer_name=args.target_layer_name,
            progress=True)
        tsn_cam = None
        if tsn is not None and not args.no_gradcam:
            # The same frames and class as KINet's maps, for a fair comparison.
            tsn_cam = class_activation_maps(tsn, data, result.gradcam_class)[0][0]
        print(f'{video}: the top-5 labels with corresponding scores are:')
        for name, score in result_summary(result, names['action'])['top_actions']:
            print(f'{name}: {score:.4f}')
        stem = osp.splitext(osp.basename(video))[0]
        out_dir = osp.join(args.out_dir, stem)
        write_video_outputs(result, out_dir, stem, tasks, names, tsn_cam, args)
        logger.info(f'wrote {out_dir}/summary.png, frames/, '
                    f'{stem}.{args.video_format} and result.json')
    if failed:
        logger.error(f'{len(failed)} of {len(args.videos)} videos failed: {failed}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
