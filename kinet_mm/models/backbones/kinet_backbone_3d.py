"""KINet's backbone inflated to 3D: trunk, branches and CBIs, I3D-style."""
import copy
from typing import Dict, Mapping, Optional, Tuple

from mmaction.registry import MODELS
from torch import Tensor

from ..utils.inflation import inflate_module, inflate_state_dict
from .kinet_backbone import KINetBackbone


@MODELS.register_module()
class KINetBackbone3D(KINetBackbone):
    """A 2D :class:`KINetBackbone` inflated into 3D (beyond the KINet paper).

    The backbone is built in 2D exactly as configured (wrapped network, stage
    split, learnable branch copies, CBIs), then every layer of the trunk, of
    the action and auxiliary branches and of the CBIs is inflated as in the I3D
    paper's section 2.4 (:func:`~kinet_mm.models.utils.inflation.inflate_module`):
    ``N x N`` kernels become ``N x N x N``, BN layers 3D, and a CBI's gate and
    ``1 x 1`` fusion act at every ``(t, h, w)``. ``temporal`` names the layers of
    the wrapped network that depart from cubic inflation (keys as in the 2D
    network, e.g. ``{'pool2a': (1, 1), 'pool3a': (1, 1)}`` for I3D's Figure 3);
    a layer inside a branch stage gets the same temporal shape in every
    auxiliary copy.

    Initialisation bootstraps 3D from 2D: :meth:`init_weights` builds and
    initialises the 2D twin (so the wrapped network's ``pretrained``/``init_cfg``,
    the branch copies' shared start and the CBIs' identity init all happen as in
    2D, and this backbone's own ``init_cfg`` may name a trained 2D KINet, e.g.
    ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``), then loads
    its weights inflated (kernels repeated in time, divided by their temporal
    size). On a boring video the 3D maps are then the 2D maps of the frame.

    Args:
        temporal (dict, optional): ``{layer of the wrapped network: (kernel_t,
            stride_t)}``. Defaults to None (cubic everywhere).
        kwargs: :class:`KINetBackbone`'s arguments (``backbone`` a 2D network
            config, ``branch_from``, ``cbi_positions``, ``partial_bn``, ...).
            ``fixed_branches`` (teacher features) are 2D only.
    """

    def __init__(self,
                 temporal: Optional[Mapping[str, Tuple[int, int]]] = None,
                 **kwargs) -> None:
        if kwargs.get('fixed_branches'):
            raise ValueError('KINetBackbone3D: fixed_branches (teacher feature '
                             'maps, Table 4) are 2D; remove them or use '
                             'KINetBackbone')
        config_2d = copy.deepcopy(kwargs)
        super().__init__(**kwargs)
        self._config_2d = config_2d
        inflate_module(self, self._qualified(dict(temporal or {})))
        # A block that is itself a layer (e.g. a stage's first max-pool) was
        # replaced by its 3D twin: walk the inflated network again.
        self._blocks = self.adapter.stages(self.net)

    def _qualified(self, temporal: Dict) -> Dict:
        """``temporal`` keyed by names relative to this module: the wrapped
        network's layer and its copy in every auxiliary branch."""
        names = {id(m): name for name, m in self.net.named_modules()}
        unknown = sorted(set(temporal) - set(names.values()))
        if unknown:
            raise ValueError(f'KINetBackbone3D: temporal names {unknown} are not '
                             f'layers of {type(self.net).__name__}')
        qualified = {f'net.{name}': spec for name, spec in temporal.items()}
        for stage in self.branch_stages:
            for index, block in enumerate(self._blocks[stage]):
                for sub_name, sub in block.named_modules():
                    spec = temporal.get(names.get(id(sub)))
                    if spec is None:
                        continue
                    suffix = f'.{sub_name}' if sub_name else ''
                    for aux in self.aux_branches:
                        qualified[f'aux_branches.{aux}.{stage}.{index}'
                                  f'{suffix}'] = spec
        return qualified

    def init_weights(self) -> None:
        """Initialise the 2D twin as configured, then load its weights inflated."""
        twin = KINetBackbone(**self._config_2d)
        twin.init_weights()
        self.load_state_dict(inflate_state_dict(twin.state_dict(), self))
        self._is_init = True

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Branch maps of clips.

        Args:
            x (Tensor): Clips, ``(N * num_clips, 3, T, H, W)``.

        Returns:
            tuple[Tensor]: One map per branch in :attr:`branch_names` order,
            each ``(N * num_clips, feat_dim, T', h, w)``.
        """
        if x.dim() != 5:
            raise ValueError('KINetBackbone3D takes clips (N, C, T, H, W), got '
                             f'shape {tuple(x.shape)}')
        return super().forward(x)
