"""Replace Python functions, methods and classes by their AST position (pure).

A model writes the new version of one or more symbols; :func:`splice_symbols` finds
each one in the file by name and replaces its lines, decorators included, with the new
code re-indented to the symbol's level. Every other byte of the file is kept: line
endings, blank lines, comments between symbols, the presence of a trailing newline.

Which symbol a block of code means:

* a top-level ``def f`` or ``class C`` replaces the file's top-level ``f`` / ``C``;
* ``class C:`` that leaves out a method of the file's ``C`` is a wrapper: each of its
  methods is spliced into ``C`` and the rest of ``C`` is kept (its docstring and
  statements the file's ``C`` already has are ignored; any other statement is an error);
  ``class C:`` holding all of ``C``'s methods, or labelled ``path::C``, replaces the
  whole class; labelled ``path::C.m``, it is always a wrapper;
* a bare ``def m`` under the label ``path::C.m``, or a bare ``def m(self, ...)`` when
  exactly one class of the file has a method ``m``, is that method, re-indented;
* a symbol the file does not have yet is added after the last symbol spliced at its
  level, else at the end of its class or of the module;
* ``import`` lines the file lacks go after its last top-level import;
* other module-level statements (a whole file sent back has them) are left alone when
  the file has them already; a new value of a name the file assigns once at module
  level, or a new module docstring, replaces the file's in place; anything else is an
  error.

Re-indenting shifts every line of a symbol, so a multi-line string inside it moves too.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from codeagent.tools.repo.edit_types import EditError
from codeagent.tools.repo.line_ops import LineOps
from codeagent.tools.repo.symbols import file_symbols, parse_python

__all__ = ["splice_symbols"]

_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IMPORTS = (ast.Import, ast.ImportFrom)
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class _Unit:
    """One symbol of the new code and where it goes: ``owner`` is a class name or ``""``."""

    node: _Def
    owner: str


def splice_symbols(path: str, text: str | None, code: str, label: str = "") -> str:
    """``text`` (the file at ``path``) with the symbols ``code`` defines spliced in.

    Args:
        path: The file's repo path (for messages; must be a ``.py`` file).
        text: The file's current text; None when it does not exist.
        code: The new version of one or more symbols (and any imports they need).
        label: The symbol the model named (``Invoice.total``), or ``""``.

    Raises:
        EditError: The file does not exist or does not parse, the code does not parse or
            holds other statements, or the label names a symbol neither the file nor the
            code has.
    """
    if text is None:
        raise EditError(
            f"{path} does not exist, so no symbol in it can be replaced",
            path=path,
            hint="create a new file with the whole-file format",
        )
    if not path.endswith((".py", ".pyi")):
        raise EditError(
            f"symbol edits work on Python and JavaScript files only, not {path}",
            path=path,
            hint="use SEARCH/REPLACE blocks or the whole-file format for this file",
        )
    tree = parse_python(text)
    if tree is None:
        raise EditError(
            f"{path} does not parse as Python, so its symbols cannot be found",
            path=path,
            hint="use SEARCH/REPLACE blocks or the whole-file format for this file",
        )
    code_text, new_tree = _parse_code(path, code, label)
    units, imports, statements = _units(path, text, tree, new_tree, label)
    return _Splicer(path, text, tree, code_text).apply(units, imports, statements)


def _parse_code(path: str, code: str, label: str) -> tuple[str, ast.Module]:
    code_text = textwrap.dedent(code.replace("\r\n", "\n"))
    try:
        return code_text, ast.parse(code_text)
    except SyntaxError as exc:
        what = f"{path}::{label}" if label else path
        line = (exc.text or "").rstrip()
        raise EditError(
            f"the new code for {what} does not parse: line {exc.lineno}: {exc.msg}"
            + (f": {line.strip()}" if line else ""),
            path=path,
            hint="send the complete definition, starting at its 'def' or 'class' line",
        ) from None


def _units(
    path: str, text: str, tree: ast.Module, new_tree: ast.Module, label: str
) -> tuple[list[_Unit], list[ast.stmt], list[tuple[ast.stmt, ast.stmt]]]:
    cls_label, _, member_label = label.rpartition(".")
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    top = {n.name for n in tree.body if isinstance(n, _DEFS)}
    units: list[_Unit] = []
    imports: list[ast.stmt] = []
    statements: list[tuple[ast.stmt, ast.stmt]] = []  # (the file's, its new version)
    for node in new_tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, ast.ClassDef):
            units.extend(_class_units(path, node, classes, label))
        elif isinstance(node, _FUNCS):
            owner = _function_owner(path, node, classes, top, (cls_label, member_label))
            units.append(_Unit(node, owner))
        elif (kept := _module_statement(tree, node, node is new_tree.body[0])) is not None:
            if kept is not node:
                statements.append((kept, node))
        else:
            raise EditError(
                f"the new code for {path} holds a statement at line {node.lineno} "
                f"({_quoted(node)}) that the file does not have; a symbol edit holds "
                "functions, classes, imports, and new values of the file's module-level names",
                path=path,
                hint="use a SEARCH/REPLACE block for other module-level statements",
            )
    _check_label(path, text, units, classes, label)
    return units, imports, statements


def _quoted(node: ast.stmt) -> str:
    """The first line of ``node`` as Python writes it, cut at 60 characters, quoted."""
    line = ast.unparse(node).splitlines()[0]
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _module_statement(tree: ast.Module, node: ast.stmt, first: bool) -> ast.stmt | None:
    """What a module-level statement of the new code does to the file (a whole file sent
    back holds its constants and docstring too): ``node`` itself when the file has it
    already (nothing to do); the file's statement it replaces (a new value of a name the
    file assigns once at module level, or, ``first`` in the code, a new module
    docstring); else None."""
    dumped = ast.dump(node)
    if any(ast.dump(n) == dumped for n in tree.body):
        return node
    name = _assigned_name(node)
    if name is not None:
        same = [n for n in tree.body if _assigned_name(n) == name]
        return same[0] if len(same) == 1 else None
    if first and _is_docstring(node) and tree.body and _is_docstring(tree.body[0]):
        return tree.body[0]
    return None


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign):
        target = node.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _class_units(
    path: str, node: ast.ClassDef, classes: dict[str, ast.ClassDef], label: str
) -> list[_Unit]:
    """The whole class, or (a wrapper) its methods to splice into the file's class."""
    existing = classes.get(node.name)
    if existing is None or label == node.name:
        return [_Unit(node, "")]
    methods = {m.name for m in node.body if isinstance(m, _FUNCS)}
    missing = {m.name for m in existing.body if isinstance(m, _FUNCS)} - methods
    if not (missing or label.startswith(node.name + ".")):
        return [_Unit(node, "")]  # every method is there: the new version of the class
    kept = {ast.dump(m) for m in existing.body}
    for n, member in enumerate(node.body):
        docstring = n == 0 and isinstance(member, ast.Expr)
        if isinstance(member, _FUNCS) or docstring or ast.dump(member) in kept:
            continue
        raise EditError(
            f"class {node.name} in the new code for {path} leaves out methods of the file's "
            f"class ({', '.join(sorted(missing)) or 'none'}) but changes more than methods "
            f"(line {member.lineno}); send only the methods to change, or the whole class "
            f"labelled {path}::{node.name}",
            path=path,
        )
    return [_Unit(m, node.name) for m in node.body if isinstance(m, _FUNCS)]


def _function_owner(
    path: str,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    classes: dict[str, ast.ClassDef],
    top: set[str],
    label: tuple[str, str],
) -> str:
    """The class a bare ``def`` belongs in (``""``: the module); see the module doc."""
    cls_label, member_label = label
    takes_self = bool(node.args.args) and node.args.args[0].arg in ("self", "cls")
    if cls_label and cls_label in classes:
        methods = {m.name for m in classes[cls_label].body if isinstance(m, _FUNCS)}
        if node.name == member_label or node.name in methods or takes_self:
            return cls_label
    if node.name in top or not takes_self:
        return ""
    owners = [c.name for c in classes.values() if any(_is_def(m, node.name) for m in c.body)]
    if len(owners) > 1:
        raise EditError(
            f"def {node.name}(self) in the new code for {path} could be the method of "
            f"{', '.join(owners)}",
            path=path,
            hint=f"label the block {path}::{owners[0]}.{node.name} (with the right class), "
            f"or write it inside its class",
        )
    return owners[0] if owners else ""


def _is_def(node: ast.stmt, name: str) -> bool:
    return isinstance(node, _FUNCS) and node.name == name


def _check_label(
    path: str,
    text: str,
    units: list[_Unit],
    classes: dict[str, ast.ClassDef],
    label: str,
) -> None:
    if not units:
        raise EditError(
            f"the new code for {path} defines no function or class",
            path=path,
            hint="send the complete new definition, starting at its 'def' or 'class' line",
        )
    if not label:
        return
    cls = label.rpartition(".")[0]
    if cls and cls not in classes:
        raise _not_found(path, text, label, f"class {cls} is not in {path}")
    defined = {f"{u.owner}.{u.node.name}" if u.owner else u.node.name for u in units}
    if label not in defined:
        raise _not_found(
            path,
            text,
            label,
            f"the label says {label} but the code defines {', '.join(sorted(defined))}",
        )


def _not_found(path: str, text: str, label: str, why: str) -> EditError:
    names = [s.name for s in file_symbols(path, text)]
    listed = ", ".join(names[:40]) + (" ..." if len(names) > 40 else "")
    return EditError(
        f"symbol {label} not found: {why}; {path} defines: {listed or 'no symbols'}",
        path=path,
        hint="label the block with one of the names above, or send the whole class",
    )


class _Splicer:
    """Turns units into line operations on the original file and applies them bottom-up."""

    def __init__(self, path: str, text: str, tree: ast.Module, code: str) -> None:
        self.path = path
        self.lines = text.splitlines(keepends=True)
        self.tree = tree
        self.code_lines = code.splitlines()
        self.nl = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
        self.ops = LineOps(path)
        self.used: set[int] = set()

    def apply(
        self,
        units: list[_Unit],
        imports: list[ast.stmt],
        statements: Sequence[tuple[ast.stmt, ast.stmt]] = (),
    ) -> str:
        # imports first: at a position shared with an added symbol, they come before it
        added_imports = self._imports(imports)
        for old, replacement in statements:  # module-level values and the docstring, in place
            lines = self.code_lines[replacement.lineno - 1 : replacement.end_lineno]
            self._add(old.lineno - 1, old.end_lineno or old.lineno, tuple(lines))
        spliced_end: dict[str, int] = {}  # owner ("" = module) -> last line spliced there
        new: list[_Unit] = []
        for unit in units:
            target = self._existing(unit)
            if target is None:
                new.append(unit)
                continue
            start, end = _first_line(target) - 1, target.end_lineno or target.lineno
            self._add(start, end, self._code(unit.node, _indent(self.lines[start])))
            spliced_end[unit.owner] = max(spliced_end.get(unit.owner, 0), end)
        for unit in new:
            self._append(unit, spliced_end.get(unit.owner), added_imports)
        return self._result()

    def _existing(self, unit: _Unit) -> _Def | None:
        body = self.tree.body if not unit.owner else self._class(unit.owner).body
        same = [n for n in body if isinstance(n, _DEFS) and n.name == unit.node.name]
        free = [n for n in same if id(n) not in self.used]
        want = [ast.unparse(d) for d in unit.node.decorator_list]
        chosen = next(
            (n for n in free if [ast.unparse(d) for d in n.decorator_list] == want),
            free[0] if free else None,
        )
        if chosen is not None:
            self.used.add(id(chosen))
        return chosen

    def _class(self, name: str) -> ast.ClassDef:
        return next(n for n in self.tree.body if isinstance(n, ast.ClassDef) and n.name == name)

    def _append(self, unit: _Unit, after: int | None, after_imports: bool) -> None:
        if unit.owner:
            cls = self._class(unit.owner)
            if cls.body[0].lineno == cls.lineno:
                raise EditError(
                    f"class {cls.name} in {self.path} is written on one line, so a method "
                    f"cannot be added to it",
                    path=self.path,
                    hint=f"send the whole class labelled {self.path}::{cls.name}",
                )
            indent = _indent(self.lines[cls.body[0].lineno - 1])
            at = after if after is not None else (cls.end_lineno or cls.lineno)
            self._add(at, at, ("", *self._code(unit.node, indent, comments=True)))
            return
        at = after if after is not None else self._module_end()
        gap = ("", "") if at or after_imports else ()
        self._add(at, at, (*gap, *self._code(unit.node, "", comments=True)))

    def _module_end(self) -> int:
        end = len(self.lines)
        while end and not self.lines[end - 1].strip():
            end -= 1
        return end

    def _imports(self, imports: list[ast.stmt]) -> bool:
        """Add the import lines the file lacks: ``__future__`` ones first in the file (after
        its docstring), the others after its last top-level import."""
        body = self.tree.body
        have = {ast.dump(n) for n in body if isinstance(n, _IMPORTS)}
        future: list[str] = []
        other: list[str] = []
        for node in imports:
            if ast.dump(node) in have:
                continue
            have.add(ast.dump(node))
            is_future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            (future if is_future else other).extend(
                self.code_lines[node.lineno - 1 : node.end_lineno]
            )
        docstring = bool(body) and isinstance(body[0], ast.Expr)
        top = (body[0].end_lineno or 0) if docstring else 0
        after_imports = top
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                after_imports = node.end_lineno or node.lineno
        if future:
            self._add(top, top, tuple(future))
        if other:
            self._add(after_imports, after_imports, tuple(other))
        return bool(future or other)

    def _code(self, node: _Def, indent: str, *, comments: bool = False) -> tuple[str, ...]:
        first = _first_line(node) - 1
        if comments:
            while first > 0 and self.code_lines[first - 1].lstrip().startswith("#"):
                first -= 1
        lines = self.code_lines[first : node.end_lineno]
        own = _indent(self.code_lines[_first_line(node) - 1])
        unit = _space_unit(lines, own) if "\t" in indent or self._tabbed() else 0
        out = []
        for line in lines:
            if not line.strip():
                out.append("")
            elif line.startswith(own):
                rest = line[len(own) :]
                if unit:  # the file indents with tabs, the code with spaces
                    lead = len(rest) - len(rest.lstrip(" "))
                    rest = "\t" * (lead // unit) + " " * (lead % unit) + rest[lead:]
                out.append(indent + rest)
            else:
                out.append(line)
        return tuple(out)

    def _tabbed(self) -> bool:
        """True when the file's indented lines start with tabs."""
        indented = [line for line in self.lines if line[:1] in (" ", "\t") and line.strip()]
        return bool(indented) and sum(line[0] == "\t" for line in indented) * 2 > len(indented)

    def _add(self, start: int, end: int, lines: tuple[str, ...]) -> None:
        self.ops.add(start, end, [line + self.nl for line in lines])

    def _result(self) -> str:
        lines = list(self.lines)
        open_end = bool(lines) and not lines[-1].endswith(("\n", "\r"))
        if open_end:
            lines[-1] += self.nl  # taken off again below: the file keeps no final newline
        result = "".join(self.ops.apply(lines))
        return result[: -len(self.nl)] if open_end and result.endswith(self.nl) else result


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _space_unit(lines: list[str], own: str) -> int:
    """The smallest step by which ``lines`` indent with spaces past ``own`` (0: none)."""
    steps = {
        len(line) - len(own) - len(line[len(own) :].lstrip(" "))
        for line in lines
        if line.strip() and line.startswith(own)
    }
    steps.discard(0)
    return min(steps, default=0)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]
