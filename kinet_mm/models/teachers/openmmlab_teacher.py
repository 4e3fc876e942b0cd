"""The common part of teachers built from an OpenMMLab (MMSeg, MMPretrain) config."""
import os.path as osp
from typing import Dict, Optional

from mmengine.registry import Registry
from torch import nn

from .base import BaseTeacher
from .utils import (ConfigLike, build_in_scope, check_checkpoint,
                    load_strict_checkpoint, load_teacher_config, read_normalization)


class OpenMMLabTeacher(BaseTeacher):
    """A frozen network from an OpenMMLab config and (optionally) its checkpoint.

    The config's ``data_preprocessor`` gives the normalisation. Subclasses call
    ``super().__init__``, adapt :attr:`cfg` if needed, then
    :meth:`build_network` and :meth:`load_weights`.

    Args:
        config (str | Config): The network's OpenMMLab config.
        checkpoint (str, optional): Its weights, loaded strictly. ``None``
            keeps random weights (tests only). Defaults to None.
        cfg_options (dict, optional): Overrides of ``config``, dotted keys.
            Defaults to None.
        init_cfg (dict, optional): Unused, teachers keep their weights.
    """

    #: The registry (and scope) the network is built in.
    registry: Registry = None

    def __init__(self,
                 config: ConfigLike,
                 checkpoint: Optional[str] = None,
                 cfg_options: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        # Fail before building a large network on a missing file.
        check_checkpoint(checkpoint)
        cfg = load_teacher_config(config, cfg_options)
        mean, std, rgb_input = read_normalization(cfg)
        super().__init__(mean=mean, std=std, rgb_input=rgb_input, init_cfg=init_cfg)
        self.cfg = cfg
        self.config = config
        self.checkpoint = checkpoint
        self.num_classes = None

    def build_network(self) -> nn.Module:
        """Build ``cfg.model`` in :attr:`registry`'s scope."""
        return build_in_scope(self.cfg.model, self.registry)

    def load_weights(self, network: nn.Module) -> None:
        """Load the checkpoint strictly into ``network``, then freeze."""
        load_strict_checkpoint(network, self.checkpoint, self.config)
        self.freeze()

    @property
    def fingerprint(self) -> Dict:
        """Base fingerprint plus the label count and the checkpoint's file name."""
        checkpoint = osp.basename(self.checkpoint) if self.checkpoint else None
        return dict(
            super().fingerprint, num_classes=self.num_classes, checkpoint=checkpoint)
