"""Keypoint geometry, heatmaps and metrics of the pose knowledge.

Coordinates are normalised: ``x, y`` in ``[0, 1]`` of the frame, ``0`` its
left/top edge and ``1`` its right/bottom edge (pixel ``i`` of ``n`` covers
``[i / n, (i + 1) / n)``, its centre is ``(i + 0.5) / n``). Crops and flips
then act on them exactly as on the frames, whatever the frames' resolution.
Keypoints are ``(..., K, 3)`` arrays ``(x, y, confidence)``.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


def flip_permutation(num_keypoints: int, flip_pairs: Sequence[Tuple[int,
                                                                    int]]) -> List[int]:
    """The keypoint order after a mirror image: ``perm[k]`` is the keypoint
    whose position keypoint ``k`` takes (its partner in ``flip_pairs``, or
    ``k`` itself).

    Args:
        num_keypoints (int): ``K``.
        flip_pairs (Sequence[tuple[int, int]]): Left/right index pairs.

    Returns:
        list[int]: A permutation of ``range(K)`` (an involution).
    """
    perm = list(range(num_keypoints))
    seen = set()
    for pair in flip_pairs:
        if len(pair) != 2:
            raise ValueError(f'flip_pairs must hold (left, right) pairs, got '
                             f'{tuple(pair)}')
        left, right = (int(index) for index in pair)
        if left == right:
            raise ValueError(f'flip pair {(left, right)} pairs a keypoint '
                             'with itself')
        for index in (left, right):
            if not 0 <= index < num_keypoints:
                raise ValueError(f'flip pair {(left, right)} is out of range '
                                 f'for {num_keypoints} keypoints')
            if index in seen:
                raise ValueError(f'keypoint {index} is in several flip_pairs '
                                 f'{tuple(map(tuple, flip_pairs))}')
            seen.add(index)
        perm[left], perm[right] = right, left
    return perm


def warp_keypoints(
    keypoints: np.ndarray,
    crop_quadruple: Sequence[float] = (0., 0., 1., 1.),
    flip: bool = False,
    flip_direction: str = 'horizontal',
    flip_pairs: Sequence[Tuple[int, int]] = ()
) -> np.ndarray:
    """Make keypoints of whole original frames follow the frames' crop and flip.

    ``crop_quadruple = (x, y, w, h)`` is the crop as fractions of the original
    frame, as MMAction2's crop transforms (``RandomCrop``,
    ``RandomResizedCrop``, ``MultiScaleCrop``, ``CenterCrop``) compose it in
    ``results['crop_quadruple']``; resizes leave normalised coordinates
    unchanged; MMAction2's ``Flip`` comes after every crop, so it mirrors the
    cropped frame: ``x -> 1 - x`` (as its keypoint flip ``x -> W - x``).

    A mirror image shows a mirrored body, whose left limbs are where a right
    limb would be: a horizontal or a vertical flip swaps the ``flip_pairs``
    (what the pose teacher itself answers on a flipped frame, including
    upside down: ``tests/test_pose_knowledge.py`` checks both), a diagonal flip
    (both at once, a 180 degree rotation) mirrors both axes and swaps nothing.

    Keypoints outside the crop (``x`` or ``y`` outside ``[0, 1]`` after it)
    keep their coordinates but get confidence 0: nothing of them is visible.

    Args:
        keypoints (np.ndarray): ``(T, K, 3)`` keypoints of the original frames.
        crop_quadruple (Sequence[float]): ``(x, y, w, h)`` of the crop.
            Defaults to the whole frame.
        flip (bool): Whether the frames were flipped. Defaults to False.
        flip_direction (str): ``'horizontal'``, ``'vertical'`` or
            ``'diagonal'``. Defaults to ``'horizontal'``.
        flip_pairs (Sequence[tuple[int, int]]): Left/right keypoint pairs.

    Returns:
        np.ndarray: ``(T, K, 3)`` float32 keypoints of the augmented frames.
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[2] != 3:
        raise ValueError('keypoints must be (T, K, 3) (x, y, confidence), got '
                         f'{keypoints.shape}')
    x0, y0, crop_w, crop_h = (float(v) for v in crop_quadruple)
    if crop_w <= 0 or crop_h <= 0:
        raise ValueError(f'crop_quadruple {tuple(crop_quadruple)} has an empty '
                         'crop')
    warped = keypoints.astype(np.float32, copy=True)
    warped[..., 0] = (warped[..., 0] - x0) / crop_w
    warped[..., 1] = (warped[..., 1] - y0) / crop_h
    outside = ((warped[..., :2] < 0) | (warped[..., :2] > 1)).any(axis=-1)
    warped[..., 2][outside] = 0
    if flip:
        if flip_direction not in FLIP_DIRECTIONS:
            raise ValueError(f'Unknown flip_direction {flip_direction!r}, '
                             f'expected one of {FLIP_DIRECTIONS}')
        if flip_direction in ('horizontal', 'diagonal'):
            warped[..., 0] = 1 - warped[..., 0]
        if flip_direction in ('vertical', 'diagonal'):
            warped[..., 1] = 1 - warped[..., 1]
        if flip_direction != 'diagonal':  # a reflection, not a rotation
            warped = warped[:, flip_permutation(warped.shape[1], flip_pairs)]
    return np.ascontiguousarray(warped)


def render_heatmaps(keypoints: Tensor,
                    size: Sequence[int],
                    sigma: float = 1.5,
                    conf_thr: float = 0.5) -> Tuple[Tensor, Tensor]:
    """Gaussian heatmaps of keypoints, the targets of a heatmap head.

    Cell ``(i, j)`` of an ``(h, w)`` heatmap covers ``[j / w, (j + 1) / w) x
    [i / h, (i + 1) / h)`` of the frame (the pixel-centre convention of the
    frames' own resizes), so a keypoint ``(x, y)`` sits at cell coordinates
    ``(x * w - 0.5, y * h - 0.5)``; its heatmap is ``exp(-d^2 / (2 sigma^2))``
    of the distance ``d`` in cells from there (peak 1 on a cell centre).
    :func:`decode_heatmaps` inverts this convention.

    Args:
        keypoints (Tensor): ``(B, K, 3)`` ``(x, y, confidence)``, normalised.
        size (Sequence[int]): ``(h, w)`` of the heatmaps.
        sigma (float): Gaussian standard deviation in cells. Defaults to 1.5.
        conf_thr (float): Keypoints with confidence below this are
            invisible: all-zero heatmap, weight 0. Defaults to 0.5.

    Returns:
        tuple[Tensor, Tensor]: ``(B, K, h, w)`` float heatmaps and ``(B, K)``
        float weights (1 visible, 0 not), on the keypoints' device.
    """
    if keypoints.dim() != 3 or keypoints.shape[2] != 3:
        raise ValueError('keypoints must be (B, K, 3) (x, y, confidence), got '
                         f'{tuple(keypoints.shape)}')
    if sigma <= 0:
        raise ValueError(f'sigma must be positive, got {sigma}')
    height, width = (int(side) for side in size)
    if height < 1 or width < 1:
        raise ValueError(f'heatmap size must be positive, got {tuple(size)}')
    keypoints = keypoints.float()
    weights = (keypoints[..., 2] >= conf_thr).float()
    cols = torch.arange(width, dtype=torch.float32, device=keypoints.device)
    rows = torch.arange(height, dtype=torch.float32, device=keypoints.device)
    centre_x = keypoints[..., 0, None] * width - 0.5
    centre_y = keypoints[..., 1, None] * height - 0.5
    # Separable: a 2-D Gaussian is the outer product of two 1-D ones.
    gauss_x = torch.exp(-(cols - centre_x)**2 / (2 * sigma**2))
    gauss_y = torch.exp(-(rows - centre_y)**2 / (2 * sigma**2))
    heatmaps = gauss_y[..., :, None] * gauss_x[..., None, :]
    return heatmaps * weights[..., None, None], weights


def decode_heatmaps(heatmaps: Tensor, refine: bool = True) -> Tensor:
    """Keypoint positions of heatmaps: the maximum of each, as pose
    estimators decode them.

    The arg-max cell, moved a quarter cell towards its higher neighbour along
    each axis (``refine``; the usual sub-cell correction), is mapped back with
    :func:`render_heatmaps`' convention: cell coordinate ``u`` is ``x = (u +
    0.5) / w``. ``decode_heatmaps(render_heatmaps(k))`` is ``k`` within half a
    cell, ``1 / (2 w)`` and ``1 / (2 h)``.

    Args:
        heatmaps (Tensor): ``(B, K, h, w)`` heatmaps.
        refine (bool): Apply the quarter-cell offset. Defaults to True.

    Returns:
        Tensor: ``(B, K, 2)`` float ``(x, y)`` in ``[0, 1]``.
    """
    if heatmaps.dim() != 4:
        raise ValueError(f'heatmaps must be (B, K, h, w), got '
                         f'{tuple(heatmaps.shape)}')
    heatmaps = heatmaps.detach().float()
    height, width = heatmaps.shape[-2:]
    index = heatmaps.flatten(2).argmax(dim=2)
    row, col = index // width, index % width
    x, y = col.float(), row.float()
    if refine:
        flat = heatmaps.flatten(2)

        def value(r, c):
            return flat.gather(2, (r * width + c)[..., None])[..., 0]

        # As pose estimators do, only a maximum with neighbours on both sides
        # moves (clamped indices give a border maximum a zero offset).
        right = value(row, (col + 1).clamp(max=width - 1))
        left = value(row, (col - 1).clamp(min=0))
        below = value((row + 1).clamp(max=height - 1), col)
        above = value((row - 1).clamp(min=0), col)
        inner_x = (col > 0) & (col < width - 1)
        inner_y = (row > 0) & (row < height - 1)
        x = x + 0.25 * torch.sign(right - left) * inner_x
        y = y + 0.25 * torch.sign(below - above) * inner_y
    return torch.stack([(x + 0.5) / width, (y + 0.5) / height], dim=2)


def keypoint_mse_loss(pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """Mean squared error of heatmaps over the visible keypoints.

    The mean is over every cell of the heatmaps with weight 1 (weights act as
    multipliers); no visible keypoint gives 0, still connected to ``pred``
    (a zero gradient rather than none, so every rank's backward matches).

    Args:
        pred (Tensor): ``(B, K, h, w)`` predicted heatmaps.
        target (Tensor): ``(B, K, h, w)`` target heatmaps.
        weights (Tensor): ``(B, K)`` keypoint weights.

    Returns:
        Tensor: The scalar loss.
    """
    if pred.shape != target.shape or pred.dim() != 4 \
            or tuple(weights.shape) != tuple(pred.shape[:2]):
        raise ValueError(f'heatmap loss needs pred and target (B, K, h, w) and weights '
                         f'(B, K), got {tuple(pred.shape)}, {tuple(target.shape)} and '
                         f'{tuple(weights.shape)}')
    weights = weights.to(pred.dtype)
    squared = ((pred - target)**2).mean(dim=(2, 3))
    return (squared * weights).sum() / weights.sum().clamp(min=1)


def pck_counts(pred_xy: Tensor,
               target: Tensor,
               conf_thr: float = 0.5,
               alpha: float = 0.2,
               image_size: Optional[Sequence[int]] = None) -> Tuple[Tensor, Tensor]:
    """Correct keypoints (PCK@``alpha``) and the number judged.

    Per sample, the judged keypoints are the visible target ones (confidence
    >= ``conf_thr``); a prediction is correct when its distance to the target
    is below ``alpha`` times the larger side of the bounding box of that
    sample's visible target keypoints. A sample whose box is a point (fewer
    than two distinct visible keypoints) has no scale and is not judged.
    Without ``image_size`` distances and boxes are in normalised units (a
    non-square frame weighs ``x`` and ``y`` differently); with ``image_size =
    (h, w)`` they are in pixels of that size.

    Args:
        pred_xy (Tensor): ``(B, K, 2)`` predicted ``(x, y)``, normalised.
        target (Tensor): ``(B, K, 3)`` target ``(x, y, confidence)``.
        conf_thr (float): Visibility threshold. Defaults to 0.5.
        alpha (float): Threshold factor. Defaults to 0.2.
        image_size (Sequence[int], optional): ``(h, w)`` to measure in.

    Returns:
        tuple[Tensor, Tensor]: Scalar counts ``(correct, total)``.
    """
    if pred_xy.dim() != 3 or pred_xy.shape[2] != 2 or target.dim() != 3 \
            or target.shape[2] != 3 or pred_xy.shape[:2] != target.shape[:2]:
        raise ValueError(f'PCK needs predictions (B, K, 2) and targets '
                         f'(B, K, 3), got {tuple(pred_xy.shape)} and '
                         f'{tuple(target.shape)}')
    pred_xy, target = pred_xy.float(), target.float()
    scale = pred_xy.new_ones(2)
    if image_size is not None:
        scale = pred_xy.new_tensor([float(image_size[1]), float(image_size[0])])
    pred_pts, target_pts = pred_xy * scale, target[..., :2] * scale
    visible = target[..., 2] >= conf_thr
    inf = torch.finfo(target_pts.dtype).max
    low = torch.where(visible[..., None], target_pts, inf).amin(dim=1)
    high = torch.where(visible[..., None], target_pts, -inf).amax(dim=1)
    box = (high - low).amax(dim=1)  # (B, ): -inf (no visible keypoint) to ...
    judged = visible & (box > 0)[:, None]
    distance = (pred_pts - target_pts).norm(dim=2)
    correct = judged & (distance < alpha * box[:, None])
    return correct.sum(), judged.sum()


def keypoint_softmax_loss(pred: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """Cross entropy of each keypoint's target heatmap, normalised to a
    distribution over the ``h * w`` cells, against the softmax of its
    predicted heatmap (logits), over the visible keypoints.

    Where MSE against mostly-zero Gaussians is first minimised by predicting
    zeros everywhere (a flat map whose argmax says nothing), every step of
    this loss moves probability towards the keypoint: what a branch trained
    for tens of steps (the real-clip configs) can learn. Same shapes, weights
    and no-visible-keypoint behaviour as :func:`keypoint_mse_loss`.
    """
    keypoint_mse_loss(pred, target, weights)  # the shape checks
    log_prob = pred.flatten(2).log_softmax(dim=2)
    target = target.flatten(2)
    target = target / target.sum(dim=2, keepdim=True).clamp(min=1e-12)
    weights = weights.to(pred.dtype)
    entropy = -(target * log_prob).sum(dim=2)
    return (entropy * weights).sum() / weights.sum().clamp(min=1)
