"""Read Caffe ``.caffemodel`` / ``.binaryproto`` files without Caffe.

A ``.caffemodel`` is a serialised protobuf ``NetParameter``. Only the fields a
weight conversion needs are declared below, with Caffe's field numbers
(``caffe/src/caffe/proto/caffe.proto``); protobuf skips every other field
(layer parameters, phases, ...), so the schema stays a few lines long.
"""
from collections import OrderedDict
from typing import List

import numpy as np
import torch
from torch import Tensor

from .key_accounting import ConversionError

# (message, [(field, number, type, label, message type)]), types as names of
# FieldDescriptorProto.Type; 'LABEL_REPEATED' fields of numbers are packed in
# Caffe's schema, and protobuf parses packed and unpacked encodings alike.
_SCHEMA = [
    ('BlobShape', [('dim', 1, 'TYPE_INT64', 'LABEL_REPEATED', None)]),
    ('BlobProto', [
        ('num', 1, 'TYPE_INT32', 'LABEL_OPTIONAL', None),
        ('channels', 2, 'TYPE_INT32', 'LABEL_OPTIONAL', None),
        ('height', 3, 'TYPE_INT32', 'LABEL_OPTIONAL', None),
        ('width', 4, 'TYPE_INT32', 'LABEL_OPTIONAL', None),
        ('data', 5, 'TYPE_FLOAT', 'LABEL_REPEATED', None),
        ('shape', 7, 'TYPE_MESSAGE', 'LABEL_OPTIONAL', 'BlobShape'),
        ('double_data', 8, 'TYPE_DOUBLE', 'LABEL_REPEATED', None),
    ]),
    ('LayerParameter', [
        ('name', 1, 'TYPE_STRING', 'LABEL_OPTIONAL', None),
        ('type', 2, 'TYPE_STRING', 'LABEL_OPTIONAL', None),
        ('blobs', 7, 'TYPE_MESSAGE', 'LABEL_REPEATED', 'BlobProto'),
    ]),
    # Pre-2015 files list layers under field 2 with this older message.
    ('V1LayerParameter', [
        ('name', 4, 'TYPE_STRING', 'LABEL_OPTIONAL', None),
        ('blobs', 6, 'TYPE_MESSAGE', 'LABEL_REPEATED', 'BlobProto'),
    ]),
    ('NetParameter', [
        ('name', 1, 'TYPE_STRING', 'LABEL_OPTIONAL', None),
        ('layers', 2, 'TYPE_MESSAGE', 'LABEL_REPEATED', 'V1LayerParameter'),
        ('layer', 100, 'TYPE_MESSAGE', 'LABEL_REPEATED', 'LayerParameter'),
    ]),
]
_PACKAGE = 'kinet_mm_caffe'
_CLASSES = {}


def _message_class(name: str):
    """The protobuf class of one message of :data:`_SCHEMA`, built once."""
    if not _CLASSES:
        try:
            from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        except ImportError as err:
            raise ImportError('Reading Caffe files needs the `protobuf` package '
                              '(requirements/runtime.txt).') from err
        field_proto = descriptor_pb2.FieldDescriptorProto
        file_proto = descriptor_pb2.FileDescriptorProto(
            name=f'{_PACKAGE}.proto', package=_PACKAGE, syntax='proto2')
        for message, fields in _SCHEMA:
            msg = file_proto.message_type.add(name=message)
            for field, number, ftype, label, type_name in fields:
                entry = msg.field.add(
                    name=field,
                    number=number,
                    type=field_proto.Type.Value(ftype),
                    label=field_proto.Label.Value(label))
                if type_name:
                    entry.type_name = f'.{_PACKAGE}.{type_name}'
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file_proto)
        for message, _ in _SCHEMA:
            descriptor = pool.FindMessageTypeByName(f'{_PACKAGE}.{message}')
            if hasattr(message_factory, 'GetMessageClass'):
                _CLASSES[message] = message_factory.GetMessageClass(descriptor)
            else:  # protobuf < 4.21
                _CLASSES[message] = message_factory.MessageFactory(pool).GetPrototype(
                    descriptor)
    return _CLASSES[name]


def blob_to_tensor(blob) -> Tensor:
    """One ``BlobProto`` as a float32 tensor of its declared shape."""
    if blob.HasField('shape'):
        shape = list(blob.shape.dim)
    else:  # legacy 4-d blobs; Caffe pads their shape with leading ones
        shape = [blob.num, blob.channels, blob.height, blob.width]
    values = blob.data if len(blob.data) else blob.double_data
    array = np.asarray(values, dtype=np.float32)
    if array.size != int(np.prod(shape)):
        raise ConversionError(f'Caffe blob of shape {shape} holds {array.size} values')
    if not blob.HasField('shape'):
        # The legacy fields cannot say "1-d": drop the padding ones, as Caffe
        # does when it reshapes a legacy blob into a layer's declared shape.
        while len(shape) > 1 and shape[0] == 1:
            shape = shape[1:]
    return torch.from_numpy(array.reshape(shape).copy())


def read_caffemodel(path: str) -> 'OrderedDict[str, List[Tensor]]':
    """The weights of a ``.caffemodel``: layer name -> its blobs, in file order.

    Layers without blobs (ReLU, Pooling, Eltwise, ...) are left out.
    """
    net = _message_class('NetParameter')()
    with open(path, 'rb') as f:
        try:
            net.ParseFromString(f.read())
        except Exception as err:  # noqa: BLE001  (protobuf's DecodeError)
            raise ConversionError(f'{path} is not a Caffe NetParameter: {err}') from err
    layers = list(net.layer) or list(net.layers)
    weights = OrderedDict()
    for layer in layers:
        if not layer.blobs:
            continue
        if layer.name in weights:
            raise ConversionError(f'{path}: layer {layer.name!r} appears twice')
        weights[layer.name] = [blob_to_tensor(b) for b in layer.blobs]
    if not weights:
        raise ConversionError(f'{path} has no layer with weights')
    return weights


def read_mean_binaryproto(path: str) -> List[float]:
    """Per-channel means (in the file's channel order, BGR for Caffe) of a
    ``BlobProto`` mean image such as ``places365CNN_mean.binaryproto``."""
    blob = _message_class('BlobProto')()
    with open(path, 'rb') as f:
        blob.ParseFromString(f.read())
    image = blob_to_tensor(blob)
    if image.dim() == 4:
        image = image[0]
    if image.dim() != 3 or image.shape[0] != 3:
        raise ConversionError(f'{path}: expected a (1, 3, H, W) mean image, got '
                              f'{tuple(image.shape)}')
    return image.double().mean(dim=(1, 2)).tolist()
