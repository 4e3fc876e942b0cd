from .inflation import (inflate_module, inflate_state_dict, inflate_weight,
                        load_inflated_checkpoint)

__all__ = ['inflate_module', 'inflate_state_dict', 'inflate_weight',
           'load_inflated_checkpoint']
