# Table 4, "Fixed auxiliary branches": the frozen teachers' own backbone maps
# stand in for the learnable human and scene branches (1x1 conv adapters match
# the student's res4/res5 channels); no distillation losses. The teachers see
# the student's frames un-normalised with the student's mean/std.
_base_ = '../kinet_imagenet-pretrained-r50_8xb32-1x1x3-70e_kinetics400-rgb.py'
student_norm = dict(
    mean={{_base_.model.data_preprocessor.mean}},
    std={{_base_.model.data_preprocessor.std}})
model = dict(
    backbone=dict(
        fixed_branches=dict(
            human=dict(
                type='TeacherFeatureBranch',
                teacher={{_base_.model.knowledge.human.teacher}},
                stage_indices=(0, 1),
                in_channels=(512, 1024),
                **student_norm),
            scene=dict(
                type='TeacherFeatureBranch',
                teacher=dict(
                    type='MMPretrainSceneTeacher',
                    config='kinet_mm::teachers/resnet152_places365.py',
                    checkpoint='checkpoints/teachers/resnet152_places365.pth',
                    out_indices=(2, 3)),  # res4, res5 of the ResNet-152
                stage_indices=(0, 1),
                in_channels=(1024, 2048),
                **student_norm))),
    # The branches stay (named by the tasks); no head, loss or distillation.
    knowledge=dict(
        human=dict(head=None, teacher=None), scene=dict(head=None, teacher=None)))
