from .inflation import (inflate_module, inflate_state_dict, inflate_weight,
                        load_inflated_checkpoint)
from .partial_bn import first_batch_norm, freeze_batch_norms

__all__ = ['first_batch_norm', 'freeze_batch_norms', 'inflate_module', 'inflate_state_dict', 'inflate_weight',
           'load_inflated_checkpoint']
