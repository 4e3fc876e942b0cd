"""Rename-rule conversion of a state dict through a :class:`KeyAccountant`."""
import re
from typing import Callable, Sequence, Tuple, Union

from .key_accounting import KeyAccountant

#: ``(source regex, target template)``; the template may use ``\\1`` groups,
#: or be a callable of the match returning the target key.
Rule = Tuple[str, Union[str, Callable[[re.Match], str]]]


def apply_rules(acc: KeyAccountant, rules: Sequence[Rule]) -> None:
    """Move every unread source key that a rule matches to its target name.

    The first rule whose regex matches the whole key wins. Keys no rule matches
    stay unread, so :meth:`KeyAccountant.finish` reports them.
    """
    compiled = [(re.compile(pattern), target) for pattern, target in rules]
    for key in list(acc.source):
        if key in acc.used or key in acc.discarded:
            continue
        for pattern, target in compiled:
            match = pattern.fullmatch(key)
            if match is None:
                continue
            name = target(match) if callable(target) else match.expand(target)
            acc.put(name, acc.take(key))
            break
