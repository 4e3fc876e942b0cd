"""Packing of KINet's training samples."""
from typing import Dict

from mmaction.datasets.transforms import PackActionInputs
from mmaction.registry import TRANSFORMS
from mmcv.transforms import to_tensor

#: Results keys of LoadPseudoLabels that become ActionDataSample fields.
PSEUDO_LABEL_KEYS = ('pseudo_human_mask', 'pseudo_scene_idx',
                     'pseudo_scene_prob')


@TRANSFORMS.register_module()
class PackKINetInputs(PackActionInputs):
    """PackActionInputs that also packs the cached pseudo labels.

    Each of ``pseudo_human_mask`` (uint8 ``(N, H // s, W // s)``),
    ``pseudo_scene_idx`` (int64 ``(N, k)``) and ``pseudo_scene_prob`` (float32
    ``(N, k)``) present in the results becomes a tensor field of the same name
    in the ``ActionDataSample``; without them it packs exactly like
    PackActionInputs (e.g. with online teachers). Takes PackActionInputs' args.
    """

    def transform(self, results: Dict) -> Dict:
        """Pack ``results`` into ``inputs`` and a ``data_samples`` with labels."""
        packed = super().transform(results)
        if 'pseudo_human_mask' in results:
            self._check_mask_alignment(results)
        data_sample = packed['data_samples']
        for key in PSEUDO_LABEL_KEYS:
            if key in results:
                data_sample.set_field(to_tensor(results[key]), key)
        return packed

    @staticmethod
    def _check_mask_alignment(results: Dict) -> None:
        """Catch LoadPseudoLabels placed before a geometric transform.

        The mask was sized from the ``img_shape`` LoadPseudoLabels saw; if a
        later transform changed the frames, sizes disagree here.
        """
        stride = results.get('pseudo_mask_stride')
        img_h, img_w = results['img_shape']
        mask_hw = tuple(results['pseudo_human_mask'].shape[-2:])
        if stride is not None and mask_hw != (img_h // stride, img_w // stride):
            raise ValueError(
                f'pseudo_human_mask of {results.get("filename")!r} is {mask_hw} '
                f'but the frames are {(img_h, img_w)} (mask stride {stride}): '
                'put LoadPseudoLabels after every crop/resize/flip transform.')
