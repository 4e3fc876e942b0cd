"""Two-stream score fusion with MMAction2's report_accuracy.py on dumped
predictions (the format of ``tools/test.py --dump``)."""
import re
import sys

import numpy as np
import torch
from fixtures import run_command
from mmengine import dump

from kinet_mm.utils.mmaction_tools import mmaction_tool_path

REPORT_ACCURACY = mmaction_tool_path('analysis_tools/report_accuracy.py')


def dump_scores(path, scores, labels):
    """What ``DumpResults`` writes: one dict per video, tensors on the CPU."""
    dump([dict(pred_score=torch.from_numpy(s), gt_label=torch.tensor([y]))
          for s, y in zip(scores, labels)], str(path))


def numpy_accuracies(scores, labels):
    """Top-1 and mean class accuracy, written independently of MMAction2."""
    hit = scores.argmax(axis=1) == labels
    per_class = [hit[labels == c].mean() for c in np.unique(labels)]
    return hit.mean(), float(np.mean(per_class))


def test_report_accuracy_fuses_rgb_and_flow_scores(tmp_path):
    rng = np.random.default_rng(10)
    labels = rng.integers(0, 5, 24)
    rgb, flow = rng.random((24, 5)), rng.random((24, 5))
    dump_scores(tmp_path / 'rgb.pkl', rgb, labels)
    dump_scores(tmp_path / 'flow.pkl', flow, labels)
    # The data make each weighting give a different accuracy, so a fusion
    # that ignores a stream or a coefficient cannot pass.
    top1 = {w: numpy_accuracies(rgb + w * flow, labels)[0]
            for w in (0, 1, 1.5)}
    assert len({*top1.values(), numpy_accuracies(flow, labels)[0]}) == 4

    # TSN's 1:1.5 (RGB:flow); each run of the tool costs seconds of imports.
    log = run_command(sys.executable, REPORT_ACCURACY, '--preds',
                      tmp_path / 'rgb.pkl', tmp_path / 'flow.pkl',
                      '--coefficients', 1, 1.5)
    reported = {name: float(value) for name, value in re.findall(
        r'(Top 1|Mean Class) Accuracy: ([\d.]+)', log)}
    expected_top1, expected_mean = numpy_accuracies(rgb + 1.5 * flow, labels)
    assert reported['Top 1'] == round(expected_top1, 4)
    assert reported['Mean Class'] == round(expected_mean, 4)
