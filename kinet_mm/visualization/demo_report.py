"""The offline demo's report: TSN and KINet on one backbone, side by side.

Each model is a *run*: a work directory of ``tools/train.py`` (its newest
``<timestamp>/vis_data/scalars.json`` and ``last_checkpoint``) whose
``test/`` sub-directory holds the metrics of ``tools/test.py``. The report
(``report.md``) puts their validation accuracy in one table, KINet's
agreement with its teachers (``KnowledgeAgreementMetric``) in another, their
training losses in one figure, and for every validation clip a panel of what
each teacher and the KINet student's branch predict (every knowledge task
draws its own).
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmaction.registry import DATASETS, MODELS  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

from kinet_mm.models.knowledge import build_knowledge  # noqa: E402

#: Losses that are not a knowledge task's (the auxiliary ones of eq. 6 are
#: logged as ``loss_<task>``, already weighted).
NON_AUX_LOSSES = ('loss', 'loss_cls')
#: The report's caveat, in every report.
PIPELINE_NOTE = (
    'Four validation clips measure that the pipeline works (data, teachers, '
    'pseudo labels, training, testing), not the paper\'s gain of KINet over '
    'TSN: one clip is 0.25 top-1, and the paper\'s comparison (Table 3) is on '
    'the 19,761 validation videos of Kinetics-400.')


def latest_scalars(work_dir: str) -> List[Dict]:
    """The records of the newest run's ``vis_data/scalars.json`` in ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under {work_dir}: is it the '
            '--work-dir of tools/train.py?')
    with open(files[-1]) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_test_metrics(test_dir: str) -> Dict[str, float]:
    """The metrics that ``tools/test.py --work-dir test_dir`` logged."""
    files = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    if not files:
        raise FileNotFoundError(
            f'no test metrics (<timestamp>/<timestamp>.json) under {test_dir}: '
            'run tools/test.py with --work-dir pointing there')
    with open(files[-1]) as f:
        return json.loads(f.readlines()[-1])


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint that MMEngine's ``last_checkpoint`` file names."""
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found: training did not save a '
                                'checkpoint in this work dir')
    with open(path) as f:
        return f.read().strip()


def train_losses(records: Sequence[Dict], term: str) -> Dict[str, List[float]]:
    """``{'step': [...], 'value': [...]}`` of one loss term over training."""
    train = [r for r in records if term in r and 'step' in r]
    return dict(step=[r['step'] for r in train], value=[r[term] for r in train])


def aux_loss_terms(records: Sequence[Dict]) -> List[str]:
    """The knowledge tasks' loss terms (``loss_<task>``) a run logged."""
    return sorted({
        key
        for record in records
        for key in record if key.startswith('loss_') and key not in NON_AUX_LOSSES
    })


def loss_figure(runs: Mapping[str, Sequence[Dict]]) -> plt.Figure:
    """Action loss of every run on the left, auxiliary losses on the right.

    Args:
        runs (Mapping[str, Sequence[dict]]): Run name -> its scalar records.

    Returns:
        Figure: Two panels; each line is labelled ``<run>`` (left) or
        ``<run> <term>`` (right, the ``loss_<task>`` terms a run logs).
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, records in runs.items():
        curve = train_losses(records, 'loss_cls')
        left.plot(curve['step'], curve['value'], marker='.', label=name)
        for term in aux_loss_terms(records):
            curve = train_losses(records, term)
            if curve['step']:
                right.plot(
                    curve['step'], curve['value'], marker='.', label=f'{name} {term}')
    left.set_title('action loss (loss_cls)')
    right.set_title('auxiliary losses (weighted, eq. 6)')
    for ax in (left, right):
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def comparison_table(metrics: Mapping[str, Mapping[str, float]],
                     configs: Mapping[str, str]) -> List[str]:
    """Markdown rows: one per run with its test top-1, top-5 and mean class
    accuracy.

    Args:
        metrics (Mapping): Run name -> the metrics of :func:`read_test_metrics`.
        configs (Mapping): Run name -> its config path.
    """
    keys = ('acc/top1', 'acc/top5', 'acc/mean1')
    lines = [
        '| model | config | top-1 | top-5 | mean class accuracy |',
        '| --- | --- | --- | --- | --- |'
    ]
    for name, values in metrics.items():
        missing = [k for k in keys if k not in values]
        if missing:
            raise KeyError(f'test metrics of {name} lack {missing}: was it '
                           'tested with AccMetric?')
        cells = ' | '.join(f'{values[k]:.4f}' for k in keys)
        lines.append(f'| {name} | `{configs[name]}` | {cells} |')
    return lines


def knowledge_table(metrics: Mapping[str, Mapping[str, float]]) -> List[str]:
    """Markdown rows of every run's student-vs-teacher agreement
    (``knowledge/<task>/<metric>`` of ``KnowledgeAgreementMetric``); empty if
    no run logged any."""
    keys = sorted({
        key
        for values in metrics.values()
        for key in values if key.startswith('knowledge/')
    })
    if not keys:
        return []
    names = [key[len('knowledge/'):] for key in keys]
    lines = ['| model | ' + ' | '.join(names) + ' |', '| --- |' + ' --- |' * len(keys)]
    for name, values in metrics.items():
        if any(key in values for key in keys):
            lines.append(f'| {name} | ' +
                         ' | '.join(f'{values[key]:.3f}' if key in values else '-'
                                    for key in keys) + ' |')
    return lines


def _panel(ax, frame: np.ndarray, tasks: Mapping, predictions: Mapping,
           class_names: Mapping, index: int, title: str) -> None:
    ax.imshow(frame)
    captions = [
        tasks[name].draw(ax, predictions[name][index], class_names.get(name))
        for name in tasks
    ]
    ax.set_title(title + '\n' + '\n'.join(captions), fontsize=8)
    ax.axis('off')


def _load(cfg: Config, checkpoint: str) -> torch.nn.Module:
    model = MODELS.build(cfg.model)
    load_checkpoint(
        model, checkpoint, map_location='cpu', strict=False, logger='silent')
    return model.eval()


def val_clip_figures(cfg: Config,
                     checkpoint: str,
                     out_dir: str,
                     tsn_cfg: Optional[Config] = None,
                     tsn_checkpoint: Optional[str] = None) -> List[Dict]:
    """One PNG per validation clip: the middle input frame with what each
    knowledge task's teacher and the KINet student predict (a human mask, the
    top-3 scenes, ...).

    Args:
        cfg (Config): The KINet config (its ``test_dataloader``, so the
            predictions are the ones ``tools/test.py`` scored, and teachers).
        checkpoint (str): The trained KINet.
        out_dir (str): Where ``val_<clip>.png`` go.
        tsn_cfg (Config, optional): A TSN config whose prediction on the same
            inputs joins each row. Defaults to None.
        tsn_checkpoint (str, optional): Its weights.

    Returns:
        list[dict]: Per clip ``clip``, ``true``, ``kinet`` (and ``tsn``)
        predicted class names and ``png``.
    """
    model = _load(cfg, checkpoint)
    tsn = _load(tsn_cfg, tsn_checkpoint) if tsn_cfg is not None else None
    tasks = {
        name: task
        for name, task in build_knowledge(cfg.model, 'online').items() if task.teacher
    }
    class_names = {name: task.class_names() for name, task in tasks.items()}
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    classes = dataset.metainfo['classes']
    rows = []
    for index in range(len(dataset)):
        data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
        inputs, sample = data['inputs'], data['data_samples']
        with torch.no_grad():
            action = model.predict(inputs, sample)[0].pred_score
            student = model.predict_auxiliary(inputs)
            frames = model.rgb_frames(inputs)
            teacher = {
                name: task.teacher_prediction(frames)
                for name, task in tasks.items()
            }
            tsn_score = (
                tsn.predict(inputs, sample)[0].pred_score if tsn is not None else None)
        middle = frames.shape[0] // 2
        frame = frames[middle].permute(1, 2, 0).clamp(0, 255).byte().numpy()
        clip = osp.basename(dataset.get_data_info(index)['filename'])
        row = dict(
            clip=clip,
            true=classes[int(sample[0].gt_label)],
            kinet=classes[int(action.argmax())],
            png=f'val_{osp.splitext(clip)[0]}.png')
        title = (f'{clip}\ntrue: {row["true"]}\nKINet: {row["kinet"]} '
                 f'({action.max():.2f})')
        if tsn_score is not None:
            row['tsn'] = classes[int(tsn_score.argmax())]
            title += f'\nTSN: {row["tsn"]} ({tsn_score.max():.2f})'
        fig, axes = plt.subplots(1, 3, figsize=(11, 5))
        axes[0].imshow(frame)
        axes[0].set_title(title, fontsize=9)
        axes[0].axis('off')
        _panel(axes[1], frame, tasks, teacher, class_names, middle, 'teachers')
        _panel(axes[2], frame, tasks, student, class_names, middle, 'KINet student')
        fig.tight_layout()
        fig.savefig(osp.join(out_dir, row['png']), dpi=100)
        plt.close(fig)
        rows.append(row)
    return rows


def report_markdown(metrics: Mapping[str, Mapping[str, float]],
                    configs: Mapping[str, str],
                    rows: Sequence[Dict] = (),
                    teachers: str = '',
                    loss_png: str = 'loss_curves.png') -> str:
    """The text of ``report.md``.

    Args:
        metrics (Mapping): Run name -> test metrics, in table order.
        configs (Mapping): Run name -> config path.
        rows (Sequence[dict]): Per-clip rows of :func:`val_clip_figures`.
        teachers (str): How the teachers are named in the header.
        loss_png (str): The loss figure, relative to the report.
    """
    lines = [
        '# TSN and KINet on the real clips (offline demo)', '',
        'Both models start from the same ImageNet-pretrained backbone and '
        'share data, schedule and seed; they differ only by KINet\'s '
        'parts (auxiliary branches, CBI, AKG, pseudo-label losses).', ''
    ]
    if teachers:
        lines += [f'Teachers: {teachers}.', '']
    lines += [
        '## Validation clips', '', *comparison_table(metrics, configs), '',
        PIPELINE_NOTE, ''
    ]
    agreement = knowledge_table(metrics)
    if agreement:
        lines += [
            '## What the student learned from its teachers', '',
            'Student vs teacher on the validation clips '
            '(KnowledgeAgreementMetric: mask IoU, top-1/top-5 '
            'agreement, PCK@0.2).', '', *agreement, ''
        ]
    lines += ['## Training losses', '', f'![loss curves]({loss_png})', '']
    if rows:
        with_tsn = 'tsn' in rows[0]
        lines += [
            '## Teacher vs student, per validation clip', '', '| clip | true | ' +
            ('TSN | ' if with_tsn else '') + 'KINet | teacher vs KINet student |',
            '| --- | --- | ' + ('--- | ' if with_tsn else '') + '--- | --- |'
        ]
        for r in rows:
            tsn = f'{r["tsn"]} | ' if with_tsn else ''
            lines.append(f'| {r["clip"]} | {r["true"]} | {tsn}{r["kinet"]} | '
                         f'![]({r["png"]}) |')
        lines.append('')
    return '\n'.join(lines)
