"""Dataclasses to and from JSON at the cost of the data, not of the type.

temporalio's JSON converter turns a dataclass into JSON through ``dataclasses.asdict`` (a
deep copy of everything it holds) and back through ``value_to_type``, which calls
``typing.get_type_hints`` and copies every list and mapping on every decode. soe_temporal's
payload shapes cross the converter on every activation, activity and update, so:

- encoding lets the JSON encoder walk a dataclass's fields in place, and leaves out our
  shapes' fields at empty defaults (:class:`DataclassJSONEncoder`);
- decoding soe_temporal's own shapes uses a decoder made once per type from its hints.
  A value the decoder does not expect (or a type it does not know) goes to
  ``value_to_type``, so what is accepted, and the errors, are temporalio's.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from collections.abc import Callable
from typing import Any

from temporalio.converter import AdvancedJSONEncoder, value_to_type

Decoder = Callable[[Any], Any]

# Types whose decoders are made here: the payload shapes this package defines.
_OWN_MODULE_PREFIX = "soe_temporal."


class DataclassJSONEncoder(AdvancedJSONEncoder):
    """AdvancedJSONEncoder, handing the encoder a dataclass's fields without copying them.

    soe_temporal's own shapes leave out each field that holds an empty default (None,
    False, 0, "", an empty list or mapping): every reader (this module, temporalio's
    ``value_to_type``, older soe_temporal) fills it in again, and they cross the history
    on every call. A default that means something (a version, a limit) is always written,
    so a later release that changes it does not change what a recorded value meant.
    """

    _plans: dict[type, _EncodingPlan] = {}

    def default(self, o: Any) -> Any:
        plan = self._plans.get(type(o))
        if plan is None and dataclasses.is_dataclass(o) and not isinstance(o, type):
            plan = self._plans[type(o)] = _encoding_plan(type(o))
        if plan is None:
            return super().default(o)
        encoded = dict(zip(plan.names, plan.read(o), strict=True))
        for name, default in plan.left_out_at:
            value = encoded[name]
            if type(value) is type(default) and value == default:
                del encoded[name]
        return encoded


@dataclasses.dataclass(frozen=True)
class _EncodingPlan:
    """A dataclass's fields, in order, read all at once; and the empty defaults at which
    a field is left out (soe_temporal's own shapes only)."""

    names: tuple[str, ...]
    read: Callable[[Any], tuple[Any, ...]]
    left_out_at: tuple[tuple[str, Any], ...]


def _encoding_plan(cls: type) -> _EncodingPlan:
    own = cls.__module__.startswith(_OWN_MODULE_PREFIX)
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    left_out_at = []
    for f in fields:
        if own and f.init:
            if f.default is not dataclasses.MISSING:
                default = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                continue
            if not default:  # a version or a limit may change its default: always written
                left_out_at.append((f.name, default))
    # attrgetter reads in C; with one name it gives the value, not a 1-tuple.
    read = (
        operator.attrgetter(*names)
        if len(names) > 1
        else lambda o: tuple(getattr(o, name) for name in names)
    )
    return _EncodingPlan(names, read, tuple(left_out_at))


def decodes_fast(hint: Any) -> bool:
    """Whether ``decode`` has a decoder of its own for values of ``hint``."""
    return (
        isinstance(hint, type)
        and dataclasses.is_dataclass(hint)
        and hint.__module__.startswith(_OWN_MODULE_PREFIX)
    )


def decode(hint: type, value: Any) -> Any:
    """``value`` (decoded JSON) as an instance of the dataclass ``hint``."""
    return decoder_for(hint)(value)


_decoders: dict[Any, Decoder] = {}
_own_shape_decoders: dict[Any, Decoder | None] = {}


def own_shape_decoder(hint: Any) -> Decoder | None:
    """The decoder of ``hint`` if it is one of soe_temporal's shapes (``decodes_fast``),
    else None; answered once per hint, as it is asked for every payload."""
    try:
        return _own_shape_decoders[hint]
    except KeyError:
        decoder = decoder_for(hint) if decodes_fast(hint) else None
        _own_shape_decoders[hint] = decoder
        return decoder
    except TypeError:  # an unhashable hint is no shape of ours
        return None


def decoder_for(hint: Any) -> Decoder:
    decoder = _decoders.get(hint)
    if decoder is None:
        decoder = _make_decoder(hint)
        _decoders[hint] = decoder
    return decoder


def _fallback(hint: Any) -> Decoder:
    return lambda value: value_to_type(hint, value)


def _checked(kind: type, hint: Any) -> Decoder:
    fallback = _fallback(hint)
    return lambda value: value if type(value) is kind else fallback(value)


def _make_decoder(hint: Any) -> Decoder:
    if hint is Any:
        return _identity
    if hint is str or hint is bool:
        return _checked(hint, hint)
    if hint is int or hint is float:
        fallback = _fallback(hint)
        return lambda value: value if type(value) is hint else fallback(value)
    if decodes_fast(hint):
        return _dataclass_decoder(hint)
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _union_decoder(hint, arguments)
    if hint is dict or hint is list:
        return _checked(hint, hint)
    if origin is dict and arguments and arguments[0] in (str, Any):
        return _container_decoder(hint, dict, decoder_for(arguments[1]), _rebuilt_dict)
    if origin is list and arguments:
        return _container_decoder(hint, list, decoder_for(arguments[0]), _rebuilt_list)
    return _fallback(hint)


def _identity(value: Any) -> Any:
    return value


def _union_decoder(hint: Any, arguments: tuple[Any, ...]) -> Decoder:
    # value_to_type takes the first member that converts; an Optional is the common case.
    if len(arguments) == 2 and type(None) in arguments:
        member = decoder_for(next(a for a in arguments if a is not type(None)))
        return lambda value: None if value is None else member(value)
    return _fallback(hint)


def _container_decoder(
    hint: Any, kind: type, item: Decoder, rebuild: Callable[[Decoder, Any], Any]
) -> Decoder:
    """A list or a mapping whose items ``item`` decodes (as they are, when it is
    ``_identity``); anything else goes to temporalio."""
    fallback = _fallback(hint)
    if item is _identity:
        return lambda value: value if type(value) is kind else fallback(value)
    return lambda value: rebuild(item, value) if type(value) is kind else fallback(value)


def _rebuilt_dict(item: Decoder, value: dict[str, Any]) -> dict[str, Any]:
    return {key: item(entry) for key, entry in value.items()}


def _rebuilt_list(item: Decoder, value: list[Any]) -> list[Any]:
    return [item(entry) for entry in value]


def _dataclass_decoder(cls: type) -> Decoder:
    # Made on first use, so a shape that refers to itself (or to one not defined yet) works.
    plan: list[tuple[str, bool, Decoder]] | None = None

    def decode_dataclass(value: Any) -> Any:
        nonlocal plan
        if type(value) is not dict:
            return value_to_type(cls, value)
        if plan is None:
            hints = typing.get_type_hints(cls)
            plan = [(f.name, f.init, decoder_for(hints[f.name])) for f in dataclasses.fields(cls)]
        arguments: dict[str, Any] = {}
        late: dict[str, Any] = {}
        for name, init, field_decoder in plan:
            if name in value:
                try:
                    converted = field_decoder(value[name])
                except Exception as error:
                    raise TypeError(f"Failed converting field {name} on dataclass {cls}") from error
                (arguments if init else late)[name] = converted
        instance = cls(**arguments)
        for name, converted in late.items():
            object.__setattr__(instance, name, converted)
        return instance

    return decode_dataclass
