"""Write rendered frames as a GIF (Pillow) or an MP4 (OpenCV)."""
import os.path as osp
from typing import Sequence

import numpy as np

VIDEO_FORMATS = ('.gif', '.mp4')


def write_animation(frames: Sequence[np.ndarray], path: str, fps: float = 2.0) -> None:
    """Write ``(H, W, 3)`` uint8 RGB frames of one size to ``path``.

    The format follows the extension: ``.gif`` (loops forever, shown inline
    on GitHub) or ``.mp4`` (``mp4v`` codec).

    Raises:
        ValueError: For another extension, no frames or frames of two sizes.
        RuntimeError: If OpenCV cannot open an MP4 writer for ``path``.
    """
    ext = osp.splitext(path)[1].lower()
    if ext not in VIDEO_FORMATS:
        raise ValueError(f'{path}: animation format must be one of '
                         f'{VIDEO_FORMATS}, got {ext!r}')
    if not frames:
        raise ValueError(f'{path}: no frames to write')
    sizes = {frame.shape for frame in frames}
    if len(sizes) != 1:
        raise ValueError(f'{path}: frames differ in size {sorted(sizes)}')
    if ext == '.gif':
        from PIL import Image
        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(
            path,
            save_all=True,
            append_images=images[1:],
            duration=round(1000 / fps),
            loop=0)
        return
    import cv2
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write an mp4v video to {path}')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
    finally:
        writer.release()
