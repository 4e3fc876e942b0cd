from .batch_norm import eval_batch_norms, first_batch_norm, freeze_batch_norms
from .inflation import (inflate_module, inflate_state_dict, inflate_weight,
                        load_inflated_checkpoint)

__all__ = [
    'eval_batch_norms', 'first_batch_norm', 'freeze_batch_norms', 'inflate_module',
    'inflate_state_dict', 'inflate_weight', 'load_inflated_checkpoint'
]
