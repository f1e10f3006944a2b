"""Symbol edits on JavaScript files: splice by position, all or nothing (pure)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from codeagent.tools.repo.edits import EditError, SymbolEdit, apply_edits, parse_edits
from codeagent.tools.repo.splice_js import js_balance_problem, splice_js_symbols

PATH = "src/csv.js"
CSV = """'use strict';

const { strict } = require('node:assert');

/**
 * Split one line.
 */
function parseLine(line, options = {}) {
  const delimiter = options.delimiter || ',';
  return line.split(delimiter);
}

/** Rows of fields. */
function parse(text, options = {}) {
  return text
    .split(/\\r?\\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => parseLine(line, options));
}

const count = (text) => parse(text).length;

class Table {
  constructor(rows) {
    this.rows = rows;
  }

  width() {
    return this.rows.length ? this.rows[0].length : 0;
  }

  height() {
    return this.rows.length;
  }
}

module.exports = { parseLine, parse, count, Table };
"""


def _splice(code: str, label: str = "", text: str = CSV) -> str:
    return splice_js_symbols(PATH, text, code, label)


def test_a_function_is_replaced_in_place_and_its_comment_kept() -> None:
    new = "function parseLine(line, options = {}) {\n  return line.split(options.d || ';');\n}\n"
    out = _splice(new, "parseLine")
    assert "return line.split(options.d || ';');" in out
    assert "const delimiter" not in out
    assert " * Split one line.\n */\nfunction parseLine(" in out  # the file's comment stays
    assert out.count("function parseLine") == 1
    assert out.replace(new.strip(), "") == CSV.replace(
        "function parseLine(line, options = {}) {\n  const delimiter = options.delimiter || "
        "',';\n  return line.split(delimiter);\n}",
        "",
    )


def test_a_comment_in_the_new_code_replaces_the_files_comment() -> None:
    new = "/** Rows, without blank lines. */\nfunction parse(text) {\n  return [];\n}\n"
    out = _splice(new)
    assert "/** Rows, without blank lines. */\nfunction parse(text) {\n  return [];\n}" in out
    assert "/** Rows of fields. */" not in out


def test_an_arrow_binding_and_a_method_are_replaced() -> None:
    out = _splice("const count = (text) => parse(text).length + 0;\n")
    assert "const count = (text) => parse(text).length + 0;" in out
    assert out.count("const count") == 1
    method = "height() {\n  return this.rows.length || 0;\n}\n"
    out = _splice(method, "Table.height")
    assert "  height() {\n    return this.rows.length || 0;\n  }\n}" in out
    assert "width()" in out and "constructor(rows)" in out


def test_a_class_with_some_methods_is_a_wrapper() -> None:
    code = "class Table {\n  width() {\n    return 42;\n  }\n\n  area() {\n    return 1;\n  }\n}\n"
    out = _splice(code)
    assert "constructor(rows)" in out and "height()" in out
    assert "  width() {\n    return 42;\n  }" in out
    # the new method goes at the end of the class, before its closing brace
    assert out.index("area()") > out.index("height()")
    assert out.index("area()") < out.index("module.exports")
    assert js_balance_problem(out) is None


def test_a_new_function_goes_before_the_exports_and_the_exports_are_replaced() -> None:
    code = (
        "function columns(text) {\n  return parse(text)[0] || [];\n}\n\n"
        "module.exports = { parseLine, parse, count, Table, columns };\n"
    )
    out = _splice(code, "columns")
    assert out.endswith(
        "function columns(text) {\n  return parse(text)[0] || [];\n}\n\n"
        "module.exports = { parseLine, parse, count, Table, columns };\n"
    )
    assert out.count("module.exports") == 1


def test_a_missing_require_is_added_after_the_files_requires() -> None:
    code = "const path = require('node:path');\n\nfunction parse(text) {\n  return [];\n}\n"
    out = _splice(code)
    lines = out.splitlines()
    assert (
        lines.index("const path = require('node:path');")
        == lines.index("const { strict } = require('node:assert');") + 1
    )
    # lines the file already has ('use strict') are left alone
    assert (
        _splice("'use strict';\nfunction parse(text) {\n  return [];\n}\n").count("'use strict'")
        == 1
    )


def test_a_statement_the_file_does_not_have_is_refused() -> None:
    with pytest.raises(
        EditError, match=re.escape("neither a definition nor in the file: let cache = {};")
    ):
        _splice("let cache = {};\nfunction parse(text) {\n  return [];\n}\n")


def test_an_unknown_label_or_class_lists_the_files_symbols() -> None:
    with pytest.raises(EditError, match=re.escape("class Grid is not in src/csv.js")):
        _splice("width() {\n  return 1;\n}\n", "Grid.width")
    with pytest.raises(EditError, match="the label says parse but the code defines parseLine"):
        _splice("function parseLine(line) {\n  return [line];\n}\n", "parse")
    with pytest.raises(EditError, match="defines no function or class"):
        _splice("return 1;\n")


def test_unbalanced_code_is_refused_and_nothing_changes() -> None:
    files = {PATH: CSV}
    cut = "function parse(text) {\n  return text.map((x) => {\n    return x;\n}\n"
    with pytest.raises(EditError, match="never closed"):
        apply_edits(files, [SymbolEdit(PATH, cut, "parse")])
    assert files == {PATH: CSV}


def test_balance_skips_strings_templates_comments_and_regexes() -> None:
    ok = (
        "const a = '}'; const b = \"{(\"; // } unbalanced in a comment\n"
        "/* { */ const c = `x ${ {a: 1}.a } }`; const r = /[}{]\\//g;\n"
        "function f(x) { return /{/.test(x) ? x / 2 : (x); }\n"
    )
    assert js_balance_problem(ok) is None
    assert js_balance_problem("function f() {\n  return [1, 2;\n}\n") is not None
    assert "line 2" in (js_balance_problem("const x = 1;\n}\n") or "")
    assert "template literal" in (js_balance_problem("const s = `abc\n") or "")


def test_crlf_is_kept() -> None:
    text = CSV.replace("\n", "\r\n")
    out = _splice("function parse(text) {\n  return [];\n}\n", text=text)
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


def test_a_model_answer_in_the_symbol_format_applies_to_a_js_file() -> None:
    answer = (
        "Here is the fix.\n\nsrc/csv.js::parseLine\n```javascript\n"
        "function parseLine(line, options = {}) {\n"
        "  return line.split(options.delimiter === undefined ? ',' : options.delimiter);\n"
        "}\n```\n"
    )
    changed = apply_edits({PATH: CSV}, parse_edits(answer, "symbol"))
    assert "options.delimiter === undefined" in changed[PATH]


@pytest.mark.usefixtures("node")
def test_spliced_files_run_under_node(tmp_path: Path) -> None:
    code = (
        "class Table {\n  area() {\n    return this.width() * this.height();\n  }\n}\n\n"
        "function columns(text) {\n  return parse(text)[0] || [];\n}\n\n"
        "module.exports = { parseLine, parse, count, Table, columns };\n"
    )
    out = _splice(code)
    (tmp_path / "csv.js").write_text(out)
    check = (
        "const m = require('./csv.js');\n"
        "const t = new m.Table(m.parse('a,b\\nc,d'));\n"
        "if (t.area() !== 4 || m.columns('x,y').length !== 2) process.exit(1);\n"
    )
    (tmp_path / "check.js").write_text(check)
    done = subprocess.run(["node", "check.js"], cwd=tmp_path, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
