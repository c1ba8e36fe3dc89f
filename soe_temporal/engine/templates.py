"""Jinja as SOE uses it (F-CTX-6..8, F-SIG-2..4), rendered in Jinja's immutable sandbox.

Templates see one variable, ``context`` (the Jinja view of an execution's context); tool
conditions also see ``result``. Rendering is deterministic: the ``random`` filter and the
``lipsum`` global are removed because a workflow must replay identically.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import TemplateSyntaxError, nodes, pass_context
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context as JinjaContext
from jinja2.sandbox import (
    UNSAFE_ASYNC_GENERATOR_ATTRIBUTES,
    UNSAFE_COROUTINE_ATTRIBUTES,
    UNSAFE_GENERATOR_ATTRIBUTES,
    ImmutableSandboxedEnvironment,
)

from .context import accumulated_value, jinja_view

# The stored context the `accumulated` filter searches (F-CTX-7); not a user variable.
_STORED_CONTEXT = "soe_stored_context_"

_FALSY_RENDERINGS = frozenset({"false", "0", "none", ""})


class _NameAccumulatedFields(Extension):
    """Rewrites ``context.NAME | accumulated`` to ``accumulated("NAME")`` (our Q-4 fix).

    The filter only receives a value; passing the field's name lets it return that
    field's history instead of the first field whose latest value happens to be equal.
    """

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        tokens = list(stream)
        return _insert_field_names(tokens)


def _insert_field_names(tokens: list[Token]) -> Iterator[Token]:
    for index, token in enumerate(tokens):
        yield token
        if token.type != "name" or token.value != "accumulated" or index < 4:
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if following is not None and following.type == "lparen":
            continue
        field = _field_before_pipe(tokens, index - 1)
        if field is not None:
            yield Token(token.lineno, "lparen", "(")
            yield Token(token.lineno, "string", field)
            yield Token(token.lineno, "rparen", ")")


def _field_before_pipe(tokens: list[Token], pipe_index: int) -> str | None:
    if tokens[pipe_index].type != "pipe":
        return None
    before = tokens[max(0, pipe_index - 4) : pipe_index]
    kinds = [(t.type, t.value) for t in before]
    # context . NAME |
    if (
        len(kinds) >= 3
        and kinds[-3] == ("name", "context")
        and kinds[-2][0] == "dot"
        and kinds[-1][0] == "name"
    ):
        return before[-1].value
    # context [ 'NAME' ] |
    if (
        len(kinds) == 4
        and kinds[0] == ("name", "context")
        and kinds[1][0] == "lbracket"
        and kinds[2][0] == "string"
        and kinds[3][0] == "rbracket"
    ):
        return before[2].value
    return None


@pass_context
def _accumulated_filter(
    jinja_context: JinjaContext, value: Any, field_name: str | None = None
) -> list:
    stored = jinja_context.get(_STORED_CONTEXT) or {}
    return accumulated_value(stored, value, field_name)


def _no_random(*_args: Any, **_kwargs: Any) -> Any:
    raise ValueError("the 'random' filter is not available: SOE workflows must replay identically")


def _build_environment() -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(extensions=[_NameAccumulatedFields])
    environment.filters["accumulated"] = _accumulated_filter
    environment.filters["random"] = _no_random
    environment.globals.pop("lipsum", None)
    return environment


ENVIRONMENT = _build_environment()
_compiled: dict[str, Any] = {}
_COMPILED_LIMIT = 2048


def _compile(source: str) -> Any:
    template = _compiled.get(source)
    if template is None:
        if len(_compiled) >= _COMPILED_LIMIT:
            _compiled.clear()
        template = ENVIRONMENT.from_string(source)
        _compiled[source] = template
    return template


def has_jinja(text: str) -> bool:
    """A text is a template when it contains ``{{`` or ``{%`` (F-CTX-8; our Q-3 fix)."""
    return "{{" in text or "{%" in text


def render(source: str, context: dict[str, Any], **extra: Any) -> str:
    """Render ``source`` against a stored context. Raises on any template error."""
    return _compile(source).render(
        context=jinja_view(context), **{_STORED_CONTEXT: context}, **extra
    )


def render_prompt(source: str, context: dict[str, Any]) -> tuple[str, list[str]]:
    """F-CTX-8: render a prompt or parameter; on failure keep the raw text and warn (Q-7)."""
    if not has_jinja(source):
        return source, []
    try:
        return render(source, context), []
    except TemplateSyntaxError as error:
        return source, [f"Jinja syntax error: {error}"]
    except Exception as error:
        return source, [f"Template rendering error: {error}"]


def condition_holds(condition: str, context: dict[str, Any], **extra: Any) -> bool:
    """F-SIG-3/4: truthy unless it renders to false/0/none/empty; any error means false."""
    try:
        rendered = render(condition, context, **extra)
    except Exception:
        return False
    return rendered.strip().lower() not in _FALSY_RENDERINGS


def syntax_error(source: str) -> str | None:
    """F-VAL-11: the Jinja syntax error of ``source`` (unknown filters and tests included)."""
    try:
        ENVIRONMENT.compile(source)
    except TemplateSyntaxError as error:
        return f"Jinja syntax error - {error.message}"
    except Exception as error:
        text = str(error)
        if "filter" in text:
            return text
    return None


def _python_internal_names() -> frozenset[str]:
    kinds: tuple[type, ...] = (
        object,
        type,
        dict,
        list,
        tuple,
        set,
        str,
        bytes,
        int,
        float,
        types.FunctionType,
        types.MethodType,
        types.BuiltinFunctionType,
        types.CodeType,
        types.FrameType,
        types.GeneratorType,
        types.CoroutineType,
        types.ModuleType,
    )
    names = {name for kind in kinds for name in dir(kind) if name.startswith("_")}
    names |= (
        UNSAFE_GENERATOR_ATTRIBUTES
        | UNSAFE_COROUTINE_ATTRIBUTES
        | UNSAFE_ASYNC_GENERATOR_ATTRIBUTES
    )
    names |= {"mro", "func_globals", "f_globals", "f_locals", "f_back", "tb_frame", "im_func"}
    return frozenset(names)


_PYTHON_INTERNALS = _python_internal_names()


def sandbox_escape(source: str) -> str | None:
    """The Python internal a template reaches for (``__class__``, ``__globals__``, ...).

    The sandbox refuses these at run time anyway; finding them when the config is loaded
    turns a silent non-emission into a clear error before anything starts.
    """
    if not has_jinja(source):
        return None
    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError:
        return None
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        else:
            continue
        if name in _PYTHON_INTERNALS:
            return name
    return None
