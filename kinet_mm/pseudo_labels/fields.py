"""Names of the pseudo-label fields, defined once.

The same three fields travel from a teacher's output to the loss, whichever
pseudo-labeler produced them:

=================== ======= ============================ =========================
field               dtype   shape (per video sample)     meaning
=================== ======= ============================ =========================
``HUMAN_MASK``      uint8   ``(num_segs, h, w)``         1 = human, 0 = background
``SCENE_IDX``       int64   ``(num_segs, k)``            the teacher's top-k scenes
``SCENE_PROB``      float32 ``(num_segs, k)``            their probabilities
=================== ======= ============================ =========================

``LoadPseudoLabels`` writes them into the pipeline results, ``PackKINetInputs``
into the ``ActionDataSample``, the cache stores them per frame, and both
pseudo-labelers return them for a batch before the targets are shaped.
"""

HUMAN_MASK = 'pseudo_human_mask'
SCENE_IDX = 'pseudo_scene_idx'
SCENE_PROB = 'pseudo_scene_prob'
#: The mask stride ``LoadPseudoLabels`` used, for ``PackKINetInputs``' check.
MASK_STRIDE = 'pseudo_mask_stride'

#: The fields each auxiliary branch's target is made from.
BRANCH_FIELDS = dict(human=(HUMAN_MASK, ), scene=(SCENE_IDX, SCENE_PROB))
FIELDS = (HUMAN_MASK, SCENE_IDX, SCENE_PROB)
