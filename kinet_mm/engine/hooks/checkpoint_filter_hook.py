"""Load a checkpoint of a related model (``load_from``) and say what loaded."""
import logging
import re
from typing import Dict, List, Sequence, Tuple

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

#: MMEngine's ``Runner.load_checkpoint`` strips this prefix after the hook.
_WRAPPER_PREFIX = re.compile(r'^module\.')


def _shape(value) -> Tuple[int, ...]:
    return tuple(getattr(value, 'shape', ()))


@HOOKS.register_module()
class CheckpointFilterHook(Hook):
    """Drop the tensors a fine-tuned model re-initialises; log what loaded.

    Transfer learning (section 4.5 of the KINet paper: Kinetics-400 to
    UCF-101) loads a checkpoint whose action classifier has another number of
    classes. MMEngine's ``load_state_dict(strict=False)`` then skips those
    tensors and prints torch's ``size mismatch`` lines with ``print`` (not into
    the run's log), and it would skip *any* mismatched tensor the same way, so
    a wrong checkpoint silently leaves whole blocks random.

    This hook runs on ``after_load_checkpoint``, before the weights reach the
    model. It compares every checkpoint tensor with the model's:

    - a shape mismatch on a key matching one of ``reinit`` is removed from the
      checkpoint, so that tensor keeps its fresh initialisation (the runner
      initialises the model before loading);
    - a shape mismatch on any other key is an error naming it;
    - it logs (into the run's log file) the count of loaded tensors, the
      re-initialised keys with both shapes, and any missing or unexpected key.

    Resuming and ``tools/test.py`` load through the same path; with a
    checkpoint of the same model nothing is dropped and the log says all
    tensors loaded.

    Args:
        reinit (Sequence[str]): Regular expressions (``re.search``) of the state
            dict keys that may differ in shape and are then re-initialised,
            e.g. ``(r'^cls_head\\.fc_cls\\.', )`` for the action classifier.
            Defaults to ``()``: any shape mismatch is an error.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` pairs applied
            with ``re.sub`` to the checkpoint's keys first, as the
            ``revise_keys`` of MMEngine's ``load_checkpoint`` (e.g. to load a
            checkpoint saved under older module names). Defaults to ``()``.
    """

    priority = 'VERY_HIGH'  # before any other hook reads the checkpoint

    def __init__(
        self, reinit: Sequence[str] = (), revise_keys: Sequence[Tuple[str, str]] = ()
    ) -> None:
        if isinstance(reinit, str):
            reinit = (reinit, )
        self.reinit = [re.compile(pattern) for pattern in reinit]
        self.revise_keys = [(re.compile(p), r) for p, r in revise_keys]

    def after_load_checkpoint(self, runner, checkpoint: Dict) -> None:
        state_dict = checkpoint.get('state_dict', checkpoint)
        renamed = self.revise(state_dict)
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        report = self.filter_state_dict(state_dict, model.state_dict())
        source = runner.cfg.get('load_from') or 'the checkpoint'
        if renamed:
            report.insert(0, (logging.INFO, f'renamed {renamed} keys by '
                              'revise_keys'))
        for level, line in report:
            runner.logger.log(level, f'load_from {source}: {line}')

    def revise(self, state_dict: Dict) -> int:
        """Rename the keys of ``state_dict`` in place (order kept); returns
        how many changed."""
        if not self.revise_keys:
            return 0
        items, renamed = list(state_dict.items()), 0
        state_dict.clear()
        for key, value in items:
            new = key
            for pattern, replacement in self.revise_keys:
                new = pattern.sub(replacement, new)
            renamed += new != key
            state_dict[new] = value
        return renamed

    def filter_state_dict(self, state_dict: Dict,
                          expected: Dict) -> List[Tuple[int, str]]:
        """Remove the re-initialised entries of ``state_dict`` in place.

        Args:
            state_dict (dict): The checkpoint's tensors (keys may carry a
                wrapper's ``module.`` prefix).
            expected (dict): ``model.state_dict()``.

        Returns:
            list[tuple[int, str]]: ``(logging level, message)`` lines.

        Raises:
            ValueError: On a shape mismatch of a key no ``reinit`` pattern
                matches.
        """
        plain = {_WRAPPER_PREFIX.sub('', key): key for key in state_dict}
        reinit, refused, loaded = [], [], 0
        for key, raw_key in plain.items():
            if key not in expected:
                continue
            ours, theirs = _shape(expected[key]), _shape(state_dict[raw_key])
            if ours == theirs:
                loaded += 1
                continue
            line = f'{key}: checkpoint {theirs} -> model {ours}'
            if any(p.search(key) for p in self.reinit):
                reinit.append(line)
                del state_dict[raw_key]
            else:
                refused.append(line)
        if refused:
            raise ValueError(
                f'{len(refused)} checkpoint tensors do not fit the model and are '
                'not meant to be re-initialised:\n  ' + '\n  '.join(refused) +
                '\nLoad a checkpoint of this architecture, or add a pattern '
                'matching these keys to CheckpointFilterHook(reinit=...) in '
                'the config\'s custom_hooks.')
        missing = [
            k for k in expected
            if k not in plain and not k.endswith('num_batches_tracked')
        ]
        unexpected = [k for k in plain if k not in expected]
        lines = [(logging.INFO,
                  f'loaded {loaded} of the model\'s {len(expected)} tensors')]
        if reinit:
            lines.append((logging.INFO, f're-initialised {len(reinit)} tensors '
                          '(shape differs; matches reinit): ' + '; '.join(reinit)))
        if missing:
            lines.append(
                (logging.WARNING, f'{len(missing)} model tensors are '
                 'not in the checkpoint (kept as initialised): ' + ', '.join(missing)))
        if unexpected:
            lines.append((logging.WARNING, f'{len(unexpected)} checkpoint '
                          'tensors have no place in the model (ignored): ' +
                          ', '.join(unexpected)))
        return lines
