"""Animations: GIF and MP4 round trips, and the errors for bad input."""
import cv2
import numpy as np
import pytest
from PIL import Image

from kinet_mm.visualization import write_animation


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
