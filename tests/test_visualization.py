"""Panels and animations: Figure 5's layout, GIF and MP4 round trips, errors."""
import cv2
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from PIL import Image

from kinet_mm.models.knowledge import build_knowledge
from kinet_mm.visualization import (figure_to_array, frame_figure, result_summary,
                                    summary_figure, write_animation)
from kinet_mm.visualization.panels import PANEL_INCHES, panel_rows

#: Tasks that draw (no head, no teacher needed).
TASKS = build_knowledge(
    dict(
        knowledge=dict(
            human=dict(type='HumanParsingKnowledge'), scene=dict(
                type='SceneKnowledge'))), 'none')


def fake_result(num: int = 5, size: int = 16) -> ActionDataSample:
    """An inference result with every field, on tiny frames."""
    result = ActionDataSample()
    result.pred_score = torch.tensor([0.1, 0.6, 0.3])
    result.frames = torch.randint(0, 256, (num, size, size, 3), dtype=torch.uint8)
    result.pred_human = torch.rand(num, size, size)
    result.pred_scene = torch.rand(num, 4).softmax(1)
    result.gradcam = torch.rand(num, size, size)
    result.gradcam_class = 1
    result.set_metainfo(dict(frame_inds=torch.arange(num) * 10))
    return result


def test_figure5_layout():
    result = fake_result()
    tsn = torch.rand(5, 16, 16)
    # As the paper's Figure 5: TSN's maps above KINet's.
    assert panel_rows(result, tsn,
                      TASKS) == ['frame', 'student', 'tsn_cam', 'kinet_cam']
    assert panel_rows(result, tsn) == ['frame', 'tsn_cam', 'kinet_cam']
    fig = summary_figure(
        result, ['a', 'b', 'c'], TASKS, dict(scene=list('wxyz')), tsn, max_frames=3)
    assert figure_to_array(fig).shape == (round(
        (PANEL_INCHES * 4 + 1.0) * 100), round((PANEL_INCHES * 3 + 1.2) * 100), 3)
    # Animation frames of one video all have one size.
    sizes = {
        figure_to_array(frame_figure(result, t, ['a', 'b', 'c'], TASKS)).shape
        for t in range(2)
    }
    assert len(sizes) == 1


def test_summary_describes_each_task_per_frame():
    result = fake_result(num=2, size=4)
    result.pred_human = torch.tensor([[[0.9] * 4] * 4, [[0.2] * 4] * 4])
    result.pred_scene = torch.tensor([[0.1, 0.2, 0.3, 0.4]] * 2)
    summary = result_summary(result, ['a', 'b', 'c'], TASKS, dict(scene=list('wxyz')))
    assert summary['top_actions'][0] == ['b', 0.6]
    first = summary['frames'][0]
    assert first['frame_ind'] == 0 and first['human'] == dict(fraction=1.0)
    assert summary['frames'][1]['human'] == dict(fraction=0.0)
    assert first['scene']['top3'] == [['z', 0.4], ['y', 0.3], ['x', 0.2]]


def frames(num: int = 3, height: int = 32, width: int = 48) -> list:
    """Frames whose brightness encodes their index (to check the order)."""
    return [np.full((height, width, 3), 40 + 80 * i, np.uint8) for i in range(num)]


def test_gif_keeps_frames_in_order(tmp_path):
    path = str(tmp_path / 'a.gif')
    write_animation(frames(), path, fps=4)
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (48, 32)
        means = []
        for i in range(3):
            gif.seek(i)
            means.append(np.asarray(gif.convert('RGB')).mean())
            assert gif.info['duration'] == 250
    np.testing.assert_allclose(means, [40, 120, 200], atol=2)


def test_mp4_keeps_frames_in_order(tmp_path):
    path = str(tmp_path / 'a.mp4')
    write_animation(frames(), path, fps=4)
    video = cv2.VideoCapture(path)
    read = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        read.append(frame)
    video.release()
    assert len(read) == 3 and read[0].shape == (32, 48, 3)
    np.testing.assert_allclose([f.mean() for f in read], [40, 120, 200], atol=4)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError, match=r"a\.avi.*'\.avi'"):
        write_animation(frames(), str(tmp_path / 'a.avi'))
    with pytest.raises(ValueError, match='frames differ in size'):
        write_animation(frames() + frames(1, 16, 16), str(tmp_path / 'a.gif'))
    with pytest.raises(ValueError, match='no frames'):
        write_animation([], str(tmp_path / 'a.gif'))
