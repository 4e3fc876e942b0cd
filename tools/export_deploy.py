"""Export a trained KINet for inference: no auxiliary head or teacher.

Example::

    python tools/export_deploy.py CONFIG work_dirs/kinet/epoch_3.pth work_dirs/deploy
    python tools/test.py work_dirs/deploy/<config name> work_dirs/deploy/<ckpt name>

Writes ``OUT/<config stem>_deploy.py`` and ``OUT/<checkpoint stem>_deploy.pth``
(``meta`` and ``state_dict`` only: no optimizer or message hub).
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.runner import CheckpointLoader

import kinet_mm  # noqa: F401  (applies the compatibility shims, registers modules)
from kinet_mm.deploy import deploy_config, deploy_state_dict


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='training config of the checkpoint')
    parser.add_argument('checkpoint', help='checkpoint to export')
    parser.add_argument('out', help='output directory')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logger = MMLogger.get_instance('kinet_mm', log_level='INFO')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    checkpoint = CheckpointLoader.load_checkpoint(args.checkpoint, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    kept, dropped = deploy_state_dict(state_dict)

    os.makedirs(args.out, exist_ok=True)
    config_out = osp.join(args.out,
                          osp.splitext(osp.basename(args.config))[0] + '_deploy.py')
    ckpt_out = osp.join(args.out,
                        osp.splitext(osp.basename(args.checkpoint))[0] + '_deploy.pth')
    deploy_config(cfg).dump(config_out)
    meta = dict(checkpoint.get('meta', {}), deployed_from=args.checkpoint)
    torch.save(dict(meta=meta, state_dict=kept), ckpt_out)
    logger.info(f'dropped {dropped / 1e6:.2f}M train-only parameters; kept '
                f'{sum(v.numel() for v in kept.values()) / 1e6:.2f}M')
    logger.info(f'wrote {config_out} and {ckpt_out}')


if __name__ == '__main__':
    main()
