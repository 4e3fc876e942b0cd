"""Strict bookkeeping of a conversion: every key used once, every key filled."""
from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch
from torch import Tensor


class ConversionError(RuntimeError):
    """A source checkpoint does not map one-to-one onto the target model."""


class KeyAccountant:
    """Hands out source tensors and records where each one went.

    A converter reads the source checkpoint only through :meth:`take`,
    :meth:`take_duplicate` and :meth:`discard`, and writes the target through
    :meth:`put`. :meth:`finish` then compares both sides with the target
    model's own ``state_dict``: a source key never read, a target key never
    written or written twice, and a shape that differs from the model's are all
    errors, listed together in one :class:`ConversionError`.

    Args:
        source (Mapping[str, Tensor]): The source checkpoint's tensors.
        source_name (str): Where they come from (a file name), for messages.
    """

    def __init__(self, source: Mapping[str, Tensor], source_name: str) -> None:
        self.source = OrderedDict(source)
        self.source_name = source_name
        self.used: Dict[str, str] = {}
        self.discarded: Dict[str, str] = {}
        self.target: 'OrderedDict[str, Tensor]' = OrderedDict()
        self.errors: List[str] = []
        self.filled_counters: List[str] = []

    def has(self, key: str) -> bool:
        """Whether the source holds ``key``."""
        return key in self.source

    def take(self, key: str) -> Tensor:
        """The source tensor ``key``; reading one key twice is an error."""
        if key not in self.source:
            raise ConversionError(
                f'{self.source_name}: source key {key!r} is missing (the file '
                'is not the checkpoint this converter expects, or is truncated)')
        if key in self.used or key in self.discarded:
            raise ConversionError(
                f'{self.source_name}: source key {key!r} is read twice')
        self.used[key] = ''
        return self.source[key]

    def take_duplicate(self, key: str, original: str) -> None:
        """Account for ``key``, a second name of the already read ``original``.

        Modules registered under two attribute names save their tensors twice;
        the copies must be identical, else the file is not what it claims.
        """
        value = self.take(key)
        if not torch.equal(value, self.source[original]):
            self.errors.append(
                f'{key!r} should duplicate {original!r} (the same module under '
                'two names) but its values differ')

    def discard(self, prefix: str, reason: str) -> List[str]:
        """Account for every unread source key under ``prefix`` as not needed.

        Args:
            prefix (str): Key prefix, e.g. ``'classifier.'``.
            reason (str): Why the target has no place for them (logged).

        Returns:
            list[str]: The discarded keys.
        """
        keys = [
            k for k in self.source
            if k.startswith(prefix) and k not in self.used and k not in self.discarded
        ]
        if not keys:
            raise ConversionError(
                f'{self.source_name}: nothing under {prefix!r} to discard')
        for key in keys:
            self.discarded[key] = reason
        return keys

    def put(self, key: str, value: Tensor) -> None:
        """Write target ``key``; writing one key twice is an error."""
        if key in self.target:
            raise ConversionError(f'target key {key!r} is written twice')
        self.target[key] = value.detach().clone().contiguous()

    def finish(self, expected: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
        """Check the conversion against the target model's ``state_dict``.

        Args:
            expected (Mapping[str, Tensor]): ``model.state_dict()`` of the target
                built from its config; only key names, shapes and dtypes are read.

        Returns:
            OrderedDict[str, Tensor]: The target state dict, in the model's key
            order and dtypes.

        Raises:
            ConversionError: listing every unused source key, every target key
            left empty or unknown to the model, and every shape mismatch.
        """
        self._fill_legacy_batch_norm_counters(expected)
        errors = list(self.errors)
        unused = [
            k for k in self.source if k not in self.used and k not in self.discarded
        ]
        missing = [k for k in expected if k not in self.target]
        unexpected = [k for k in self.target if k not in expected]
        shapes = [
            f'{k}: converted {tuple(v.shape)}, model '
            f'{tuple(expected[k].shape)}' for k, v in self.target.items()
            if k in expected and v.shape != expected[k].shape
        ]
        for title, items in (('source keys never used',
                              unused), ('target keys never filled', missing),
                             ('converted keys the model does not have',
                              unexpected), ('shape mismatches', shapes)):
            if items:
                errors.append(f'{len(items)} {title}:\n    ' + '\n    '.join(items))
        if errors:
            raise ConversionError(
                f'Converting {self.source_name} failed the key accounting '
                '(check that the source file and the --config describe the '
                'same network):\n  ' + '\n  '.join(errors))
        return OrderedDict((k, self.target[k].to(expected[k].dtype)) for k in expected)

    def _fill_legacy_batch_norm_counters(self, expected: Mapping[str, Tensor]) -> None:
        """Zero ``num_batches_tracked`` of every converted BatchNorm, if the
        source predates the counter.

        BatchNorm has counted its training batches only since PyTorch 0.4.1;
        files saved before (CSAILVision's Places365 ResNets: PyTorch 0.2) have
        no ``num_batches_tracked`` at all. The true count is not recoverable
        and is only read when ``momentum=None`` (cumulative averaging), so it
        is set to 0, the value PyTorch's own ``BatchNorm._load_from_state_dict``
        gives such old checkpoints. A source holding *some* counters is a
        current file: a missing one there stays an error.
        """
        if any(k.endswith('num_batches_tracked') for k in self.source):
            return
        for key in expected:
            if not key.endswith('.num_batches_tracked') or key in self.target:
                continue
            norm = key[:-len('num_batches_tracked')]
            if norm + 'running_mean' in self.target:
                self.target[key] = torch.zeros_like(expected[key])
                self.filled_counters.append(key)

    def summary(self) -> str:
        """One line: how many keys were used, discarded and written."""
        reasons = sorted(set(self.discarded.values()))
        text = (f'{len(self.used)} source tensors used, {len(self.target)} '
                f'target tensors written')
        if self.discarded:
            text += (f', {len(self.discarded)} source tensors discarded (' +
                     '; '.join(reasons) + ')')
        if self.filled_counters:
            text += (f', {len(self.filled_counters)} BatchNorm '
                     'num_batches_tracked set to 0 (the source predates them)')
        return text


def strip_prefix(state_dict: Mapping[str, Tensor],
                 prefix: str) -> 'OrderedDict[str, Tensor]':
    """Remove ``prefix`` (e.g. DataParallel's ``'module.'``) where present."""
    return OrderedDict((k[len(prefix):] if k.startswith(prefix) else k, v)
                       for k, v in state_dict.items())


def load_torch_state_dict(
    path: str, keys: Iterable[str] = ('state_dict', )
) -> Tuple['OrderedDict[str, Tensor]', Optional[Dict]]:
    """Read a PyTorch checkpoint without executing pickled code.

    ``torch.load(weights_only=True)`` only rebuilds tensors and plain Python
    containers, so a downloaded file cannot run code on load.

    Args:
        path (str): A ``.pth`` / ``.pth.tar`` file.
        keys (Iterable[str]): Keys under which the tensors may be nested
            (training scripts save ``{'epoch': .., 'state_dict': ..}``).

    Returns:
        tuple: the tensors, and the rest of the file's top-level dict (or None).
    """
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001  (re-raised with the file named)
        raise ConversionError(
            f'Cannot read {path} as a tensors-only PyTorch checkpoint: {err}. '
            'Files saved by Python 2 may need re-saving with Python 3 '
            '(see docs/teachers.md).') from err
    extra = None
    for key in keys:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            extra = {k: v for k, v in obj.items() if k != key}
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(
            isinstance(v, Tensor) for v in obj.values()):
        raise ConversionError(
            f'{path} holds no state dict of tensors (looked at the top level '
            f'and under {list(keys)})')
    return OrderedDict(obj), extra
