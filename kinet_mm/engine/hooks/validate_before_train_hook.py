"""Validate the freshly initialised model before the first training step."""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class ValidateBeforeTrainHook(Hook):
    """Run the validation loop once in ``before_train``, after MMEngine has
    initialised (or loaded, or resumed) the weights.

    The log then holds epoch 0's metrics beside the trained epochs', so a
    curve starts from where the model began: for KINet, what the fresh
    branches already agree with their teachers (``knowledge/*``), against
    which the distilled ones are read. A resumed run skips it (its starting
    point was logged by the run it resumes).

    Example:
        >>> custom_hooks = [dict(type='ValidateBeforeTrainHook')]
    """

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        if runner.val_loop is None or runner.iter > 0:
            return
        runner.val_loop.run()
