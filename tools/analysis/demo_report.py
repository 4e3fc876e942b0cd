"""Write the demo report: val accuracy, loss curves, teacher vs student per val clip.

Example::

    python tools/analysis/demo_report.py work_dirs/demo \\
        --config configs/kinet/kinet_r18_1x1x3_realclips-cpu_cache.py \\
        --checkpoint work_dirs/demo/epoch_15.pth --test-dir work_dirs/demo/test

Writes ``<work_dir>/report/``: ``report.md``, ``loss_curves.png`` and one
``val_<clip>.png`` per validation clip (a frame with the teacher's and the
student's human masks overlaid, and both top-3 scene/context labels).
"""
import argparse
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmaction.registry import DATASETS, MODELS  # noqa: E402
from mmaction.utils import register_all_modules  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import kinet_mm  # noqa: E402,F401
from kinet_mm.apis import scene_class_names  # noqa: E402

LOSS_TERMS = ('loss_cls', 'loss_human', 'loss_scene')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='training work directory')
    parser.add_argument('--config', required=True, help='the trained config')
    parser.add_argument('--checkpoint', required=True, help='trained weights')
    parser.add_argument('--test-dir', help='work dir of tools/test.py')
    parser.add_argument('--out', help='report directory (<work_dir>/report)')
    return parser.parse_args()


def latest_scalars(work_dir: str) -> List[Dict]:
    """The records of the newest run's ``vis_data/scalars.json`` in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def test_metrics(test_dir: str) -> Dict:
    """The metrics that ``tools/test.py`` logged in ``test_dir``."""
    files = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    if not files:
        raise FileNotFoundError(f'no test metrics (*/*.json) under {test_dir}')
    with open(files[-1]) as f:
        return json.loads(f.readlines()[-1])


def plot_losses(records: List[Dict], path: str) -> None:
    """One panel per loss term (logged, i.e. already weighted) against the step."""
    train = [r for r in records if 'loss_cls' in r]
    fig, axes = plt.subplots(1, len(LOSS_TERMS), figsize=(4 * len(LOSS_TERMS), 3))
    for ax, term in zip(axes, LOSS_TERMS):
        steps = [r['step'] for r in train if term in r]
        ax.plot(steps, [r[term] for r in train if term in r], marker='.')
        ax.set_title(term)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def top3(probs: torch.Tensor, names: Sequence[str]) -> str:
    values, indices = probs.topk(3)
    return '\n'.join(f'{names[i]} {v:.3f}' for v, i in zip(values.tolist(),
                                                           indices.tolist()))


def overlay(ax, frame: np.ndarray, mask: np.ndarray, title: str) -> None:
    ax.imshow(frame)
    ax.imshow(np.ma.masked_less(mask, 0.5), cmap='autumn', alpha=0.5,
              vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis('off')


def val_clip_figures(cfg: Config, checkpoint: str, out_dir: str) -> List[Dict]:
    """Render one PNG per validation clip; return a row of results per clip."""
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
    model.eval()
    teachers = {name: MODELS.build(t) for name, t in cfg.model.teachers.items()}
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    classes = dataset.metainfo.get('classes') or [str(i) for i in range(100)]
    names = scene_class_names(cfg, model.aux_heads['scene'].num_classes)
    rows = []
    for index in range(len(dataset)):
        data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
        inputs, sample = data['inputs'], data['data_samples']
        with torch.no_grad():
            action = model.predict(inputs, sample)[0].pred_score
            student = model.predict_auxiliary(inputs)
            frames = model.rgb_frames(inputs)
            teacher_mask = teachers['human'](frames).float()
            teacher_scene = teachers['scene'](frames)
        middle = frames.shape[0] // 2
        frame = frames[middle].permute(1, 2, 0).clamp(0, 255).byte().numpy()
        clip = osp.basename(dataset.get_data_info(index)['filename'])
        label = int(sample[0].gt_label)
        predicted = int(action.argmax())
        fig, axes = plt.subplots(1, 3, figsize=(11, 5))
        axes[0].imshow(frame)
        axes[0].set_title(f'{clip}\ntrue: {classes[label]}\npredicted: '
                          f'{classes[predicted]} ({action.max():.2f})', fontsize=9)
        axes[0].axis('off')
        overlay(axes[1], frame, teacher_mask[middle].numpy(),
                'teacher: human mask, top-3 scene\n' +
                top3(teacher_scene[middle], names))
        overlay(axes[2], frame, student['human'][middle].numpy(),
                'student: human mask, top-3 scene\n' +
                top3(student['scene'][middle], names))
        fig.tight_layout()
        png = f'val_{osp.splitext(clip)[0]}.png'
        fig.savefig(osp.join(out_dir, png), dpi=100)
        plt.close(fig)
        rows.append(dict(clip=clip, true=classes[label],
                         predicted=classes[predicted], png=png))
    return rows


def write_markdown(path: str, metrics: Dict, rows: List[Dict], cfg: Config) -> None:
    teachers = ', '.join(f'{name}: `{t.type}`' for name, t in cfg.model.teachers.items())
    lines = [
        '# KINet offline demo on the real clips', '',
        f'Teachers: {teachers}.', '',
        '| metric | value |', '| --- | --- |',
        *(f'| {k} | {v:.4f} |' for k, v in metrics.items()
          if k.startswith('acc/')), '',
        '![loss curves](loss_curves.png)', '',
        '| clip | true | predicted | teacher vs student |', '| --- | --- | --- | --- |',
        *(f'| {r["clip"]} | {r["true"]} | {r["predicted"]} | ![]({r["png"]}) |'
          for r in rows), ''
    ]
    with open(path, 'w') as f:
        f.write('\n'.join(lines))


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=True)
    logger = MMLogger.get_instance('kinet_mm_demo_report', log_level='INFO')
    out_dir = args.out or osp.join(args.work_dir, 'report')
    os.makedirs(out_dir, exist_ok=True)
    cfg = Config.fromfile(args.config)
    plot_losses(latest_scalars(args.work_dir), osp.join(out_dir, 'loss_curves.png'))
    metrics = test_metrics(args.test_dir) if args.test_dir else {}
    rows = val_clip_figures(cfg, args.checkpoint, out_dir)
    write_markdown(osp.join(out_dir, 'report.md'), metrics, rows, cfg)
    for key, value in metrics.items():
        logger.info(f'{key}: {value}')
    logger.info(f'report written to {out_dir}/report.md')


if __name__ == '__main__':
    main()
