"""Make a type stub (``.pyi``) from a Python module, with the standard library only.

PEP 561 covers packages, not single-module distributions: a type checker
does not read the annotations of an installed ``minimalmodbus.py``. It does
read a stub-only package ``minimalmodbus-stubs/__init__.pyi``, so setup.py's
``build_py`` writes one for every module it installs, made by this module.

What a stub keeps of the module:

- imports (also those under ``if TYPE_CHECKING:`` and in ``try:`` blocks);
  the ones the stub no longer uses are dropped, and names the API hands on
  (``minimalmodbus.serial``) are re-exported as ``import serial as serial``;
- classes with their bases and decorators; functions and methods with their
  decorators and annotated signatures, bodies replaced by ``...``;
- annotated assignments with their types; plain assignments as their value
  when it is a simple literal (``MODE_RTU = "rtu"``), as a type alias when
  it looks like one (``Chunk = tuple[float, bytes]``), else with the type
  inferred from the value (``_CRC_TABLE: list[int]`` from the return
  annotation of the function that made it), or ``Incomplete``;
- instance attributes set on ``self`` in methods, as class-level
  annotations, typed as above (``self.debug = debug`` takes the type of the
  parameter ``debug``).

Docstrings, comments and ``if __name__ == "__main__":`` blocks are dropped.
Needs Python 3.9 (``ast.unparse``). Run it by hand::

    python tools/make_stubs.py minimalmodbus.py > minimalmodbus.pyi
"""

from __future__ import annotations

import argparse
import ast
import enum
import sys
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Union

HEADER = "# Generated from {name}.py by tools/make_stubs.py when the package is built; do not edit.\n"
INCOMPLETE = "Incomplete"
"""The type of a value the generator cannot infer (typeshed's marker for 'not typed yet')."""
TYPE_ALIAS = "TypeAlias"
_MARKERS = (("_typeshed", INCOMPLETE), ("typing_extensions", TYPE_ALIAS))
"""Where the names the generator writes itself come from."""

_LITERAL_TYPES = (bool, int, float, complex, str, bytes)
_CONTAINERS = {ast.List: "list", ast.Set: "set"}
_ALIAS_HEADS = {"Callable", "Union", "Optional", "tuple", "dict", "list", "set", "frozenset", "type"}

Statement = ast.stmt
Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
Types = dict[str, str]
"""Known type expressions (as source text) of names in one scope."""


class Scope(enum.Enum):
    """Where a statement stands: its assignments become annotations, or enum members."""

    MODULE = "module"
    CLASS = "class"
    ENUM = "enum"


def make_stub(source: str, name: str = "module", reexports: Collection[str] = ()) -> str:
    """Return the stub of a module's source text.

    Args:
        source: The module's Python source.
        name: The module's name, for the header line.
        reexports: Imported names that are part of the module's API; the stub
            re-exports them (``import serial as serial``).

    Returns:
        The stub's text, a valid ``.pyi`` file.
    """
    tree = ast.parse(source)
    known = _ModuleFacts(tree)
    body = list(_stub_statements(tree.body, known, Scope.MODULE))
    body = _prune_imports(body, set(reexports))
    stub = ast.Module(body=body, type_ignores=[])
    return HEADER.format(name=name) + ast.unparse(ast.fix_missing_locations(stub)) + "\n"


class _ModuleFacts:
    """What the module says about the types of its names: return annotations, classes, constants."""

    def __init__(self, tree: ast.Module) -> None:
        self.returns: Types = {}
        self.classes: set[str] = set()
        self.constants: Types = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
                self.returns[node.name] = ast.unparse(node.returns)
            elif isinstance(node, ast.ClassDef):
                self.classes.add(node.name)

    def type_of(self, value: ast.expr, local: Types) -> str | None:
        """Return the type of an expression as source text, or None when it cannot be told.

        Args:
            value: The expression assigned.
            local: Types of names in the enclosing function (its parameters).
        """
        if isinstance(value, ast.Constant) and isinstance(value.value, _LITERAL_TYPES):
            return type(value.value).__name__
        if isinstance(value, ast.Constant) and value.value is None:
            return "None"
        if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd, ast.Invert)):
            return self.type_of(value.operand, local)
        if isinstance(value, ast.BinOp):
            return self._binop_type(value, local)
        if isinstance(value, ast.Name):
            return local.get(value.id) or self.constants.get(value.id)
        if isinstance(value, ast.Call):
            return self._call_type(value)
        return self._container_type(value, local)

    def _binop_type(self, value: ast.BinOp, local: Types) -> str | None:
        left, right = self.type_of(value.left, local), self.type_of(value.right, local)
        if left == right and left in ("int", "float", "str", "bytes") and not isinstance(value.op, ast.Div):
            return left
        if {left, right} <= {"int", "float"} and None not in (left, right):
            return "float"
        return None

    def _call_type(self, value: ast.Call) -> str | None:
        """A call of a module function has its return annotation; a call of a class makes an instance."""
        called = ast.unparse(value.func)
        if called in self.returns:
            return self.returns[called]
        if called in self.classes or called.split(".")[-1][:1].isupper():
            return called  # a class by its name (``threading.Lock()``), as PEP 8 names classes
        return None

    def _container_type(self, value: ast.expr, local: Types) -> str | None:
        if isinstance(value, ast.Tuple):
            items = [self.type_of(item, local) for item in value.elts]
            if not items or None in items:
                return None
            if len(set(items)) == 1:
                return f"tuple[{items[0]}, ...]"
            return f"tuple[{', '.join(str(item) for item in items)}]"
        if isinstance(value, (ast.List, ast.Set)):
            item = self._common_type(value.elts, local)
            return f"{_CONTAINERS[type(value)]}[{item}]" if item else None
        if isinstance(value, ast.Dict) and None not in value.keys:
            keys = [key for key in value.keys if key is not None]
            key_type, value_type = self._common_type(keys, local), self._common_type(value.values, local)
            return f"dict[{key_type}, {value_type}]" if key_type and value_type else None
        return None

    def _common_type(self, items: Iterable[ast.expr], local: Types) -> str | None:
        types = {self.type_of(item, local) for item in items}
        return types.pop() if len(types) == 1 else None


def _stub_statements(body: list[Statement], known: _ModuleFacts, scope: Scope) -> Iterator[Statement]:
    """Yield the stub's statements for one module or class body, in their order."""
    for node in _without_docstring(body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                yield node
        elif isinstance(node, ast.Try):
            yield from _stub_statements(node.body, known, scope)
        elif isinstance(node, ast.If):
            yield from _stub_if(node, known, scope)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield _stub_function(node)
        elif isinstance(node, ast.ClassDef):
            yield _stub_class(node, known)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            has_default = node.value is not None and scope is not Scope.MODULE  # a field's default
            yield _annotated(node.target.id, node.annotation, has_default)
            if scope is Scope.MODULE:
                known.constants[node.target.id] = ast.unparse(node.annotation)
        elif isinstance(node, ast.Assign):
            yield from _stub_assign(node, known, scope)


def _without_docstring(body: list[Statement]) -> list[Statement]:
    """The statements without bare strings: the docstring, and those documenting an assignment."""
    return [node for node in body if not _is_string(node)]


def _is_string(node: Statement) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _stub_if(node: ast.If, known: _ModuleFacts, scope: Scope) -> Iterator[Statement]:
    """Flatten ``if TYPE_CHECKING:``, drop ``if __name__ == "__main__":``, keep other conditions."""
    condition = ast.unparse(node.test)
    if condition in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
        yield from _stub_statements(node.body, known, scope)
    elif condition.replace('"', "'") != "__name__ == '__main__'":
        body = list(_stub_statements(node.body, known, scope)) or [_ellipsis()]
        orelse = list(_stub_statements(node.orelse, known, scope))
        yield ast.If(test=node.test, body=body, orelse=orelse)


def _ellipsis() -> ast.Expr:
    return ast.Expr(value=ast.Constant(value=...))


def _simple_default(value: ast.expr) -> ast.expr:
    """Keep a default that is a plain literal (or a negative number); others become ``...``."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return value if isinstance(value.operand, ast.Constant) else ast.Constant(value=...)
    if isinstance(value, ast.Constant) and (value.value is None or isinstance(value.value, _LITERAL_TYPES)):
        short = not isinstance(value.value, (str, bytes)) or len(value.value) <= 50
        return value if short else ast.Constant(value=...)
    return ast.Constant(value=...)


def _stub_function(node: Function) -> Function:
    """The function with its body replaced by ``...`` and long or computed defaults by ``...``."""
    arguments = node.args
    arguments.defaults = [_simple_default(default) for default in arguments.defaults]
    arguments.kw_defaults = [
        None if default is None else _simple_default(default) for default in arguments.kw_defaults
    ]
    node.body = [_ellipsis()]
    return node


def _stub_class(node: ast.ClassDef, known: _ModuleFacts) -> ast.ClassDef:
    """The class with its members stubbed and the attributes its methods set on ``self`` declared."""
    set_on_self = _instance_attributes(node, known)  # before the methods lose their bodies
    body = list(_stub_statements(node.body, known, Scope.ENUM if _is_enum(node) else Scope.CLASS))
    declared = {name for statement in body for name in _bound_names(statement)}
    attributes = [
        _annotated(name, ast.parse(type_text, mode="eval").body, has_value=False)
        for name, type_text in set_on_self.items()
        if name not in declared
    ]
    node.body = attributes + body or [_ellipsis()]
    return node


def _is_enum(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).split(".")[-1].endswith(("Enum", "Flag")) for base in node.bases)


def _bound_names(statement: Statement) -> Iterator[str]:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield statement.name
    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        yield statement.target.id
    elif isinstance(statement, ast.Assign):
        yield from (target.id for target in statement.targets if isinstance(target, ast.Name))


def _instance_attributes(node: ast.ClassDef, known: _ModuleFacts) -> Types:
    """The attributes the class's methods set on ``self``, with their types (annotated ones win)."""
    attributes: Types = {}
    for method in node.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and _has_self(method):
            for name, type_text in _self_assignments(method, known):
                if name not in attributes or attributes[name] == INCOMPLETE:
                    attributes[name] = type_text
    return attributes


def _has_self(method: Function) -> bool:
    """Whether the method's first parameter is the instance (or the class): not a static method."""
    static = any(ast.unparse(decorator) == "staticmethod" for decorator in method.decorator_list)
    return bool(method.args.args) and not static


def _self_assignments(method: Function, known: _ModuleFacts) -> Iterator[tuple[str, str]]:
    self_name = method.args.args[0].arg
    parameters = {
        argument.arg: ast.unparse(argument.annotation)
        for argument in method.args.posonlyargs + method.args.args + method.args.kwonlyargs
        if argument.annotation is not None
    }
    for statement in ast.walk(method):
        if isinstance(statement, ast.AnnAssign) and _is_attribute_of(statement.target, self_name):
            yield _attribute_name(statement.target), ast.unparse(statement.annotation)
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if _is_attribute_of(target, self_name):
                    type_text = known.type_of(statement.value, parameters) or INCOMPLETE
                    yield _attribute_name(target), type_text


def _is_attribute_of(target: ast.expr, owner: str) -> bool:
    return (
        isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == owner
    )


def _attribute_name(target: ast.expr) -> str:
    return target.attr if isinstance(target, ast.Attribute) else ""


def _annotated(name: str, annotation: ast.expr, has_value: bool) -> ast.AnnAssign:
    """``name: annotation``, or ``name: annotation = ...`` where a default value matters (class fields)."""
    value = ast.Constant(value=...) if has_value else None
    return ast.AnnAssign(target=ast.Name(id=name), annotation=annotation, value=value, simple=1)


def _stub_assign(node: ast.Assign, known: _ModuleFacts, scope: Scope) -> Iterator[Statement]:
    """A plain assignment as a literal, a type alias, or an annotation with the inferred type."""
    for target in node.targets:
        if isinstance(target, ast.Name):
            yield _stub_name_assign(target.id, node.value, known, scope)
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            for item, value in zip(target.elts, node.value.elts):
                if isinstance(item, ast.Name):
                    yield _stub_name_assign(item.id, value, known, scope)


def _stub_name_assign(name: str, value: ast.expr, known: _ModuleFacts, scope: Scope) -> Statement:
    """One name's assignment: an enum member, ``__all__`` or a type alias as it is, others annotated."""
    if name == "__all__":
        return ast.Assign(targets=[ast.Name(id=name)], value=value, lineno=0)
    if scope is Scope.ENUM:
        member = value if _is_simple_literal(value) else ast.Constant(value=...)
        return ast.Assign(targets=[ast.Name(id=name)], value=member, lineno=0)
    if scope is Scope.MODULE and _looks_like_type_alias(name, value):
        known.constants[name] = f"type[{name}]"
        return ast.AnnAssign(
            target=ast.Name(id=name), annotation=ast.Name(id=TYPE_ALIAS), value=value, simple=1
        )
    type_text = known.type_of(value, {}) or INCOMPLETE
    if scope is Scope.MODULE:
        known.constants[name] = type_text
    return _annotated(name, ast.parse(type_text, mode="eval").body, has_value=False)


def _is_simple_literal(value: ast.expr) -> bool:
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        value = value.operand
    if not isinstance(value, ast.Constant):
        return False
    if isinstance(value.value, (str, bytes)):
        return len(value.value) <= 50
    return value.value is None or isinstance(value.value, _LITERAL_TYPES)


def _looks_like_type_alias(name: str, value: ast.expr) -> bool:
    """``Chunk = tuple[float, bytes]``: a capitalised name bound to a subscripted or union type."""
    if not name[:1].isupper() or name.isupper():
        return False
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitOr):
        return True
    return isinstance(value, ast.Subscript) and ast.unparse(value.value).split(".")[-1] in _ALIAS_HEADS


def _prune_imports(body: list[Statement], reexports: set[str]) -> list[Statement]:
    """Drop the imports that the stub does not use; re-export those named in ``reexports``."""
    used = {
        node.id for node in ast.walk(ast.Module(body=body, type_ignores=[])) if isinstance(node, ast.Name)
    }
    used |= _names_in_string_annotations(body)
    kept: list[Statement] = [_import_from(*marker) for marker in _MARKERS if marker[1] in used]
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            pruned = _prune_import(node, used, reexports)
            if pruned is not None:
                kept.append(pruned)
        else:
            kept.append(node)
    return kept


def _names_in_string_annotations(body: list[Statement]) -> set[str]:
    """Names inside quoted annotations (``"Instrument"``), which a stub may keep as strings."""
    names: set[str] = set()
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                expression = ast.parse(node.value, mode="eval")
            except SyntaxError:
                continue
            names |= {name.id for name in ast.walk(expression) if isinstance(name, ast.Name)}
    return names


def _prune_import(node: ast.Import | ast.ImportFrom, used: set[str], reexports: set[str]) -> Statement | None:
    aliases = []
    for alias in node.names:
        bound = alias.asname or alias.name.split(".")[0]
        if bound in reexports and "." not in alias.name:
            aliases.append(ast.alias(name=alias.name, asname=bound))
        elif bound in used:
            aliases.append(alias)
    if not aliases:
        return None
    if isinstance(node, ast.Import):
        return ast.Import(names=aliases)
    return ast.ImportFrom(module=node.module, names=aliases, level=node.level)


def _import_from(module: str, name: str) -> ast.ImportFrom:
    return ast.ImportFrom(module=module, names=[ast.alias(name=name)], level=0)


def write_stub_package(source: Path, target_dir: Path, reexports: Collection[str] = ()) -> Path:
    """Write ``<module>-stubs/__init__.pyi`` for one module, the PEP 561 stub-only layout.

    Args:
        source: The module's file, e.g. ``minimalmodbus.py``.
        target_dir: Where the stub package goes (the build's library folder).
        reexports: Imported names that are part of the module's API.

    Returns:
        The stub file written.
    """
    name = source.stem
    stub_file = target_dir / f"{name}-stubs" / "__init__.pyi"
    stub_file.parent.mkdir(parents=True, exist_ok=True)
    stub_file.write_text(make_stub(source.read_text(encoding="utf-8"), name, reexports), encoding="utf-8")
    return stub_file


def main(argv: list[str] | None = None) -> int:
    """Print the stub of one module (``--reexport NAME`` may be repeated)."""
    parser = argparse.ArgumentParser(prog="make_stubs.py", description="Print the type stub of a module.")
    parser.add_argument("module", type=Path, help="the module's .py file")
    parser.add_argument("--reexport", action="append", default=[], help="an imported name the API hands on")
    arguments = parser.parse_args(argv)
    source = arguments.module.read_text(encoding="utf-8")
    sys.stdout.write(make_stub(source, arguments.module.stem, arguments.reexport))
    return 0


if __name__ == "__main__":
    sys.exit(main())
