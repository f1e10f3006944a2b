"""Edits a small model writes: three formats parsed strictly, applied all-or-nothing."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.tools.errors import CodeAgentError
from codeagent.tools.repo.edits import (
    EDIT_FORMATS,
    Edit,
    EditError,
    SearchReplace,
    SymbolEdit,
    WholeFile,
    apply_edits,
    format_instructions,
    parse_edits,
)

CART = '''\
"""A shopping cart."""

from decimal import Decimal


class Cart:
    """Items and their total."""

    tax = Decimal("0.2")

    def __init__(self, items):
        self.items = items

    @property
    @cache
    def total(self) -> Decimal:
        # sum of the prices
        return sum(i.price for i in self.items)

    @total.setter
    def total(self, value):
        raise AttributeError("read only")

    def count(self):
        return len(self.items)


def empty():
    return Cart([])


def helper():
    return 1
'''
PATH = "src/shop/cart.py"
FILES = MappingProxyType({PATH: CART, "README.md": "# shop\n"})


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _apply(*edits: WholeFile | SymbolEdit | SearchReplace) -> str:
    return apply_edits(FILES, list(edits))[PATH]


# --- symbol edits ------------------------------------------------------------------


def test_a_decorated_method_is_replaced_in_place_with_its_decorators() -> None:
    code = (
        "class Cart:\n    @property\n    @cache\n    def total(self) -> Decimal:\n"
        "        return sum(i.price * (1 + self.tax) for i in self.items)\n"
    )
    new = _apply(SymbolEdit(PATH, code))
    expected = CART.replace(
        "        # sum of the prices\n        return sum(i.price for i in self.items)\n",
        "        return sum(i.price * (1 + self.tax) for i in self.items)\n",
    )
    assert new == expected  # the setter of the same name, the rest: untouched


def test_a_method_written_at_column_zero_is_indented_into_its_class() -> None:
    code = "def count(self):\n    return sum(1 for _ in self.items)\n"
    new = _apply(SymbolEdit(PATH, code, "Cart.count"))
    assert "    def count(self):\n        return sum(1 for _ in self.items)\n" in new
    assert new == CART.replace(
        "        return len(self.items)\n", "        return sum(1 for _ in self.items)\n"
    )


def test_the_setter_is_matched_by_its_decorator() -> None:
    code = "@total.setter\ndef total(self, value):\n    self._total = value\n"
    new = _apply(SymbolEdit(PATH, code, "Cart.total"))
    assert new == CART.replace(
        '        raise AttributeError("read only")\n', "        self._total = value\n"
    )


def test_a_top_level_function_is_replaced() -> None:
    new = _apply(SymbolEdit(PATH, "def empty():\n    return Cart(items=[])\n"))
    assert new == CART.replace("    return Cart([])\n", "    return Cart(items=[])\n")


def test_a_whole_class_is_replaced_when_labelled_so() -> None:
    code = "class Cart:\n    def count(self):\n        return 0\n"
    new = _apply(SymbolEdit(PATH, code, "Cart"))
    assert "tax = " not in new and "def total" not in new
    assert '"""A shopping cart."""' in new and "def empty():" in new
    assert "class Cart:\n    def count(self):\n        return 0\n\n\ndef empty():" in new


def test_a_class_shown_with_its_docstring_and_one_method_only_changes_that_method() -> None:
    code = (
        'class Cart:\n    """A new docstring: ignored."""\n\n    tax = Decimal("0.2")\n\n'
        "    def count(self):\n        return 0\n"
    )
    new = _apply(SymbolEdit(PATH, code))
    assert new == CART.replace("        return len(self.items)\n", "        return 0\n")


def test_a_class_leaving_out_methods_but_changing_attributes_is_refused() -> None:
    code = 'class Cart:\n    tax = Decimal("0.1")\n\n    def count(self):\n        return 0\n'
    with pytest.raises(EditError) as caught:
        _apply(SymbolEdit(PATH, code))
    assert "leaves out methods of the file's class (__init__, total)" in caught.value.message
    assert "src/shop/cart.py::Cart" in caught.value.message


def test_a_class_holding_every_method_is_the_new_class() -> None:
    text = "class C(A):\n    x = 1\n\n    def m(self):\n        return 1\n"
    code = "class C(B):\n    def m(self):\n        return 2\n"
    assert apply_edits({"m.py": text}, [SymbolEdit("m.py", code)]) == {"m.py": code}


def test_a_new_method_is_appended_at_the_end_of_its_class() -> None:
    code = "class Cart:\n    def clear(self):\n        self.items = []\n"
    new = _apply(SymbolEdit(PATH, code))
    assert new == CART.replace(
        "        return len(self.items)\n",
        "        return len(self.items)\n\n    def clear(self):\n        self.items = []\n",
    )


def test_a_new_method_goes_after_the_last_method_spliced_with_it() -> None:
    code = (
        "def __init__(self, items):\n    self.items = list(items)\n\n"
        "def first(self):\n    return self.items[0]\n"
    )
    new = _apply(SymbolEdit(PATH, code, "Cart.__init__"))
    assert new == CART.replace(
        "        self.items = items\n",
        "        self.items = list(items)\n\n    def first(self):\n        return self.items[0]\n",
    )


def test_several_defs_in_one_block_are_each_spliced_and_new_ones_follow_them() -> None:
    code = (
        "import math\nfrom decimal import Decimal\n\n"
        "def empty():\n    return Cart(())\n\n"
        "# the rounding rule\ndef rounded(x):\n    return math.floor(x)\n\n"
        "def helper():\n    return 2\n"
    )
    new = _apply(SymbolEdit(PATH, code))
    assert _lines(new)[:4] == [
        '"""A shopping cart."""',
        "",
        "from decimal import Decimal",
        "import math",
    ]
    assert new.endswith(
        "def empty():\n    return Cart(())\n\n\ndef helper():\n    return 2\n\n\n"
        "# the rounding rule\ndef rounded(x):\n    return math.floor(x)\n"
    )


def test_a_new_function_without_a_spliced_neighbour_goes_to_the_end() -> None:
    new = _apply(SymbolEdit(PATH, "def total_of(carts):\n    return 0\n"))
    assert new == CART + "\n\ndef total_of(carts):\n    return 0\n"


def test_a_bare_self_method_finds_its_only_class() -> None:
    new = _apply(SymbolEdit(PATH, "    def count(self):\n        return 42\n"))
    assert new == CART.replace("        return len(self.items)\n", "        return 42\n")


def test_an_unknown_label_lists_the_files_symbols() -> None:
    with pytest.raises(EditError) as caught:
        _apply(SymbolEdit(PATH, "def cnt(self):\n    return 0\n", "Cart.cnt2"))
    message = caught.value.message
    assert "Cart.cnt2" in message and PATH in message
    assert "Cart.count" in message and "empty" in message
    assert caught.value.hint and isinstance(caught.value, CodeAgentError)
    with pytest.raises(EditError, match=re.escape("class Basket is not in src/shop/cart.py")):
        _apply(SymbolEdit(PATH, "def count(self):\n    return 0\n", "Basket.count"))


def test_a_symbol_edit_on_a_missing_or_broken_file_is_refused() -> None:
    with pytest.raises(EditError, match=re.escape("src/shop/nope.py does not exist")):
        apply_edits(FILES, [SymbolEdit("src/shop/nope.py", "def f():\n    pass\n")])
    # a new test file is the one file a symbol edit may create: the block is the file
    new = "from shop.cart import Cart\n\n\ndef test_new():\n    assert Cart\n"
    assert apply_edits(FILES, [SymbolEdit("tests/test_new.py", new)]) == {"tests/test_new.py": new}
    broken = {"a.py": "def f(:\n"}
    with pytest.raises(EditError, match=re.escape("a.py does not parse")):
        apply_edits(broken, [SymbolEdit("a.py", "def f():\n    pass\n")])
    with pytest.raises(EditError, match="Python and JavaScript files only"):
        apply_edits({"a.rb": "def f; end\n"}, [SymbolEdit("a.rb", "def f; 1; end\n")])


def test_code_that_does_not_parse_or_holds_statements_is_refused() -> None:
    with pytest.raises(
        EditError, match=r"new code for src/shop/cart.py::empty does not parse: line 1"
    ):
        _apply(SymbolEdit(PATH, "def empty(:\n    pass\n", "empty"))
    with pytest.raises(
        EditError, match=re.escape("holds a statement at line 1 ('LIMIT = 3') that the file")
    ):
        _apply(SymbolEdit(PATH, "LIMIT = 3\ndef empty():\n    pass\n"))
    with pytest.raises(EditError, match=re.escape("holds a statement at line 1 (\"print('hi')\")")):
        _apply(SymbolEdit(PATH, "print('hi')\ndef empty():\n    pass\n"))
    long_call = "print(" + ", ".join(str(i) for i in range(40)) + ")"
    with pytest.raises(
        EditError,
        match=re.escape("('print(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 1...')"),
    ):
        _apply(SymbolEdit(PATH, long_call + "\ndef empty():\n    pass\n"))


def test_a_whole_file_sent_back_changes_only_what_differs() -> None:
    """Small models often send the whole file in the symbol format: its unchanged
    imports, docstring and definitions are no-ops, the changed function is spliced."""
    sent = CART.replace("return Cart([])", "return Cart(list())").replace(
        "\n\ndef helper():\n    return 1\n", "\n"
    )  # ... and it forgot helper(): a splice never deletes
    out = _apply(SymbolEdit(PATH, sent))
    assert out == CART.replace("return Cart([])", "return Cart(list())")


def test_a_new_value_of_a_module_name_or_docstring_replaces_it_in_place() -> None:
    text = '"""Old doc."""\n\nLIMIT = 3\nNAMES: list[str] = []\n\n\ndef f():\n    return LIMIT\n'
    code = '"""New doc."""\n\nLIMIT = 4\nNAMES: list[str] = ["a"]\n\n\ndef f():\n    return LIMIT\n'
    out = apply_edits({"m.py": text}, [SymbolEdit("m.py", code)])["m.py"]
    assert out == code
    # a name assigned twice in the file is ambiguous: refused
    twice = "X = 1\nX = 2\n\n\ndef f():\n    return X\n"
    with pytest.raises(EditError, match="that the file does not have"):
        apply_edits({"m.py": twice}, [SymbolEdit("m.py", "X = 3\n\n\ndef f():\n    return X\n")])


def test_a_splice_that_no_longer_compiles_is_refused_and_nothing_changes() -> None:
    text = "import asyncio\n\n\nasync def fetch():\n    await asyncio.sleep(0)\n"
    files = {"m.py": text, "README.md": "x\n"}
    code = "def fetch():\n    await asyncio.sleep(1)\n"  # parses alone; not inside the file
    edits = [WholeFile("README.md", "y\n"), SymbolEdit("m.py", code)]
    with pytest.raises(EditError) as caught:
        apply_edits(files, edits)
    assert caught.value.message == (
        "m.py would no longer parse after the edit: line 5: 'await' outside async function: "
        "await asyncio.sleep(1); no file was changed"
    )
    assert files == {"m.py": text, "README.md": "x\n"}


def test_bad_code_is_refused_before_splicing_and_nothing_changes() -> None:
    files = {PATH: CART}
    bad = SymbolEdit(PATH, "def empty():\n    return Cart([])\n  x = 1\n")
    with pytest.raises(EditError, match="does not parse: line 3"):
        apply_edits(files, [SymbolEdit(PATH, "def helper():\n    return 3\n"), bad])
    assert files == {PATH: CART}


def test_a_result_that_does_not_parse_names_the_line() -> None:
    text = "def f():\n    return 1\n\n\ndef g():\n    return 1\n"
    with pytest.raises(EditError, match=r"m.py would no longer parse after the edit: line 5"):
        apply_edits({"m.py": text}, [SearchReplace("m.py", "def g():\n", "def g(:\n")])
    # a file that was broken before may stay broken: the edit is not to blame
    broken = {"m.py": "def f(:\n    pass\nX = 1\n"}
    assert apply_edits(broken, [SearchReplace("m.py", "X = 1", "X = 2")]) == {
        "m.py": "def f(:\n    pass\nX = 2\n"
    }


def test_imports_go_after_the_files_imports_and_future_ones_first() -> None:
    code = (
        "from __future__ import annotations\nfrom decimal import Decimal\n"
        "from typing import (\n    Any,\n    cast,\n)\n\n"
        "def helper() -> Any:\n    return cast(Any, 1)\n"
    )
    new = _apply(SymbolEdit(PATH, code))
    assert _lines(new)[:10] == [
        '"""A shopping cart."""',
        "from __future__ import annotations",
        "",
        "from decimal import Decimal",  # already there: not repeated
        "from typing import (",
        "    Any,",
        "    cast,",
        ")",
        "",
        "",
    ]
    assert new.count("from decimal import Decimal") == 1


def test_a_method_cannot_be_added_to_a_one_line_class() -> None:
    one_line = re.escape("class C in m.py is written on one line")
    with pytest.raises(EditError, match=one_line) as caught:
        apply_edits(
            {"m.py": "class C: pass\n"}, [SymbolEdit("m.py", "def m(self):\n    pass\n", "C.m")]
        )
    assert "m.py::C" in (caught.value.hint or "")


def test_crlf_and_a_missing_final_newline_are_preserved() -> None:
    text = "def f():\r\n    return 1\r\n\r\n\r\ndef g():\r\n    return 2"
    new = apply_edits({"m.py": text}, [SymbolEdit("m.py", "def g():\n    return 3\n")])["m.py"]
    assert new == "def f():\r\n    return 1\r\n\r\n\r\ndef g():\r\n    return 3"
    added = apply_edits({"m.py": text}, [SymbolEdit("m.py", "def h():\n    pass\n")])["m.py"]
    assert added == text + "\r\n\r\n\r\ndef h():\r\n    pass"
    sr = apply_edits({"m.py": text}, [SearchReplace("m.py", "    return 1\n", "    return 0\n")])
    assert sr["m.py"] == text.replace("return 1", "return 0")


def test_a_tab_indented_file_gets_tabs() -> None:
    text = "class C:\n\tdef m(self):\n\t\treturn 1\n"
    code = "def m(self):\n    if self:\n        return 2\n"
    new = apply_edits({"m.py": text}, [SymbolEdit("m.py", code, "C.m")])["m.py"]
    assert new == "class C:\n\tdef m(self):\n\t\tif self:\n\t\t\treturn 2\n"


def test_a_new_function_in_an_empty_or_docstring_only_file() -> None:
    code = "import os\n\ndef sep():\n    return os.sep\n"
    assert apply_edits({"m.py": ""}, [SymbolEdit("m.py", code)]) == {
        "m.py": "import os\n\n\ndef sep():\n    return os.sep\n"
    }
    assert apply_edits({"m.py": '"""Doc."""\n'}, [SymbolEdit("m.py", code)]) == {
        "m.py": '"""Doc."""\nimport os\n\n\ndef sep():\n    return os.sep\n'
    }


def test_a_bare_method_two_classes_define_is_refused_as_ambiguous() -> None:
    method = "    def run(self):\n        pass\n"
    text = f"class A:\n{method}\n\nclass B:\n{method}"
    with pytest.raises(EditError, match="could be the method of A, B") as caught:
        apply_edits({"m.py": text}, [SymbolEdit("m.py", "def run(self):\n    return 1\n")])
    assert "m.py::A.run" in (caught.value.hint or "")


def test_an_overloaded_function_has_its_implementation_replaced() -> None:
    text = (
        "@overload\ndef f(x: int) -> int: ...\n@overload\ndef f(x: str) -> str: ...\n"
        "def f(x):\n    return x\n"
    )
    new = apply_edits({"m.py": text}, [SymbolEdit("m.py", "def f(x):\n    return x * 2\n")])
    assert new == {"m.py": text.replace("return x\n", "return x * 2\n")}


# --- search/replace ----------------------------------------------------------------


def test_search_replace_changes_the_one_place() -> None:
    new = _apply(SearchReplace(PATH, "    return Cart([])\n", "    return Cart(())\n"))
    assert new == CART.replace("Cart([])", "Cart(())")


def test_search_text_not_found_shows_the_closest_lines() -> None:
    with pytest.raises(EditError) as caught:
        _apply(SearchReplace(PATH, "def count(self):\n    return len(self.item)\n", "x\n"))
    message = caught.value.message
    assert message.startswith(f"the SEARCH text was not found in {PATH}")
    assert "closest lines in the file are 24-25" in message
    assert "   25 |         return len(self.items)" in message
    assert "exactly" in (caught.value.hint or "")


def test_search_text_found_twice_says_how_often_and_where() -> None:
    with pytest.raises(EditError) as caught:
        _apply(SearchReplace(PATH, "    def total(self", "    def amount(self"))
    assert "occurs 2 times in src/shop/cart.py (starting at lines 16, 21)" in caught.value.message
    assert "more" in (caught.value.hint or "")


def test_whitespace_only_mismatch_matches_by_stripped_lines_and_shifts_replace() -> None:
    search = "def count(self):\n    return len(self.items)\n"  # written at column 0
    replace = "def count(self):\n    return len(self.items) or 0\n"
    new = _apply(SearchReplace(PATH, "\n" + search, replace))
    assert new == CART.replace(
        "        return len(self.items)\n", "        return len(self.items) or 0\n"
    )


def test_the_loose_pass_also_refuses_an_ambiguous_match() -> None:
    files = {"m.py": "if a:\n    x = 1\nif b:\n        x = 1\n"}
    with pytest.raises(EditError, match=r"occurs 2 times in m.py \(starting at lines 2, 4\)"):
        apply_edits(files, [SearchReplace("m.py", "x = 1\n", "x = 2\n")])


def test_an_empty_search_creates_a_file_or_appends() -> None:
    out = apply_edits(FILES, [SearchReplace("docs/new.md", "", "# new\n")])
    assert out == {"docs/new.md": "# new\n"}
    out = apply_edits(FILES, [SearchReplace("README.md", "", "more\n")])
    assert out == {"README.md": "# shop\nmore\n"}
    with pytest.raises(EditError, match=r"src/shop/kart.py does not exist.*src/shop/cart.py"):
        apply_edits(FILES, [SearchReplace("src/shop/kart.py", "x\n", "y\n")])


# --- paths and atomicity -----------------------------------------------------------


@pytest.mark.parametrize(
    "path", [".git/config", "sub/.git/hooks/pre-commit", "../x.py", "/etc/passwd"]
)
def test_paths_outside_the_repo_or_in_git_are_refused(path: str) -> None:
    with pytest.raises(EditError) as caught:
        apply_edits(FILES, [WholeFile(path, "x\n")])
    assert path in caught.value.message and caught.value.hint


@pytest.mark.parametrize(
    "edit",
    [
        WholeFile("src/greet.py", 'def greet(name):\n    return f"Hello, {name}!"\n'),
        SearchReplace("src/shop/cart.py", "", "def total():\n    return 0\n"),
    ],
)
def test_the_instructions_example_path_is_refused_unless_the_repo_has_it(edit: Edit) -> None:
    """Small models copy the made-up path of the instructions' example; creating it would
    be an edit that applies and changes nothing the task is about."""
    files = {"todo/cli.py": "def main():\n    pass\n"}
    with pytest.raises(EditError, match="is the made-up example of the instructions") as caught:
        apply_edits(files, [edit])
    assert caught.value.path == edit.path and caught.value.hint
    # a repository that has the file is edited as usual; a task that names it asks for it
    assert edit.path in apply_edits({**files, edit.path: "x = 1\n"}, [edit])
    assert edit.path in apply_edits(files, [edit], task=f"Add {edit.path} with one function")


def test_nothing_is_applied_when_a_later_edit_fails() -> None:
    files = dict(FILES)
    edits = [
        WholeFile("README.md", "# changed\n"),
        SearchReplace(PATH, "no such text\n", "x\n"),
    ]
    with pytest.raises(EditError):
        apply_edits(files, edits)
    assert files == dict(FILES)


def test_edits_compose_in_order_and_only_changed_files_come_back() -> None:
    out = apply_edits(
        FILES,
        [
            SearchReplace(PATH, "def helper():\n    return 1\n", "def helper():\n    return 2\n"),
            SymbolEdit("./src/shop/cart.py", "def helper():\n    return 3\n"),
            WholeFile("README.md", "# shop\n"),  # unchanged: not returned
        ],
    )
    assert out == {PATH: CART.replace("    return 1\n", "    return 3\n")}


def test_a_whole_file_that_leaves_out_definitions_is_refused() -> None:
    """The whole format replaces the file: a small model that sends back only the function
    it changed would delete the rest (the single call's 271 regressions on the pilot)."""
    only_total = "def total(items):\n    return 0\n"
    with pytest.raises(EditError) as caught:
        apply_edits(FILES, [WholeFile(PATH, only_total)])
    assert "leaves out" in caught.value.message and "helper" in caught.value.message
    # every definition kept: applied; a file that no longer parses: the parse error says so
    kept = CART.replace("    return 1\n", "    return 2\n")
    assert apply_edits(FILES, [WholeFile(PATH, kept)]) == {PATH: kept}
    with pytest.raises(EditError, match="would no longer parse"):
        apply_edits(FILES, [WholeFile(PATH, "def total(:\n")])


def test_a_whole_file_takes_the_files_line_endings() -> None:
    out = apply_edits({"a.txt": "x\r\ny\r\n"}, [WholeFile("a.txt", "x\nz\n")])
    assert out == {"a.txt": "x\r\nz\r\n"}


# --- parsing the model's answer ----------------------------------------------------


def test_whole_files_are_read_in_their_three_label_forms() -> None:
    answer = (
        "Here are the files.\n\nsrc/a.py\n```python\nA = 1\n```\n\n"
        "```python src/b.py\nB = 2\n```\n\n"
        "```js\n// web/c.js\nconst c = 3;\n```\n"
    )
    assert parse_edits(answer, "whole") == [
        WholeFile("src/a.py", "A = 1\n"),
        WholeFile("src/b.py", "B = 2\n"),
        WholeFile("web/c.js", "const c = 3;\n"),
    ]


def test_a_bold_or_backticked_path_line_labels_the_block() -> None:
    answer = (
        "**`src/a.py`**:\n```python\nA = 1\n```\nUpdated `src/b.py`:\n```\nB = 1\n```\n"
        "src/c.py\nHere it is, complete:\n```python\nC = 1\n```\n"
    )
    assert [e.path for e in parse_edits(answer, "whole")] == ["src/a.py", "src/b.py", "src/c.py"]


def test_symbol_blocks_keep_their_label() -> None:
    answer = (
        "src/shop/cart.py::Cart.count\n```python\ndef count(self):\n    return 0\n```\n"
        "```python src/shop/cart.py\ndef empty():\n    return None\n```\n"
    )
    assert parse_edits(answer, "symbol") == [
        SymbolEdit(PATH, "def count(self):\n    return 0\n", "Cart.count"),
        SymbolEdit(PATH, "def empty():\n    return None\n", ""),
    ]


def test_an_unlabelled_block_is_refused_with_its_number() -> None:
    answer = "src/a.py\n```python\nA = 1\n```\nAnd then:\n```python\nB = 2\n```\n"
    with pytest.raises(EditError) as caught:
        parse_edits(answer, "whole")
    assert "code block 2 (line 6, starting 'B = 2') has no file name" in caught.value.message
    assert "line before the opening" in (caught.value.hint or "")


def test_an_unclosed_block_and_an_answer_without_blocks_are_refused() -> None:
    with pytest.raises(EditError, match="opened at line 2 is never closed"):
        parse_edits("src/a.py\n```python\nA = 1\n", "whole")
    with pytest.raises(EditError, match="no fenced code block") as caught:
        parse_edits("I think the code is fine.", "symbol")
    assert "path::Name" in (caught.value.hint or "")


def test_search_replace_blocks_for_several_files() -> None:
    answer = (
        "Change two files.\n\nsrc/shop/cart.py\n```python\n"
        "<<<<<<< SEARCH\n    return 1\n=======\n    return 2\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\ndef empty():\n=======\ndef empty() -> Cart:\n>>>>>>> REPLACE\n```\n\n"
        "docs/new.md\n```\n<<<<<<< SEARCH\n=======\n# New\n>>>>>>> REPLACE\n```\n"
    )
    assert parse_edits(answer, "search_replace") == [
        SearchReplace(PATH, "    return 1\n", "    return 2\n"),
        SearchReplace(PATH, "def empty():\n", "def empty() -> Cart:\n"),
        SearchReplace("docs/new.md", "", "# New\n"),
    ]


def test_malformed_search_replace_blocks_are_refused() -> None:
    with pytest.raises(EditError, match="at line 2 has no file name"):
        parse_edits("```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```", "search_replace")
    no_end = re.escape("for a.py at line 3 has no >>>>>>> REPLACE line")
    with pytest.raises(EditError, match=no_end):
        parse_edits("a.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n```", "search_replace")
    with pytest.raises(EditError, match="has no ======= line"):
        parse_edits("a.py\n<<<<<<< SEARCH\na\n>>>>>>> REPLACE\n", "search_replace")
    with pytest.raises(EditError, match="no SEARCH/REPLACE block"):
        parse_edits("a.py\n```python\nA = 1\n```", "search_replace")


@pytest.mark.parametrize("fmt", EDIT_FORMATS)
def test_each_formats_own_example_parses_and_applies(fmt: str) -> None:
    text = format_instructions(fmt)
    assert "```" in text and len(text) < 800
    edits = parse_edits(text, fmt)
    assert len(edits) == 1
    repo = {
        "src/greet.py": "def greet(name):\n    return name\n",
        "src/shop/cart.py": (
            "class Cart:\n    def total(self):\n        return sum(self.prices)\n"
        ),
    }
    changed = apply_edits(repo, edits)
    assert len(changed) == 1 and all(text != repo.get(p) for p, text in changed.items())


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(EditError, match="unknown edit format 'diff'") as caught:
        parse_edits("x", "diff")
    assert "search_replace" in (caught.value.hint or "")
    with pytest.raises(EditError):
        format_instructions("udiff")


_ANSWER_PIECES = st.sampled_from(
    [
        "src/shop/cart.py",
        "src/shop/cart.py::Cart.count",
        "../x.py",
        ".git/config",
        "```python",
        "```",
        "<<<<<<< SEARCH",
        "=======",
        ">>>>>>> REPLACE",
        "def count(self):",
        "    return 0",
        "class Cart:",
        "def empty(",
        "import os",
        "",
        "x = 1",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ANSWER_PIECES, max_size=14), st.sampled_from(EDIT_FORMATS))
def test_any_answer_either_applies_or_raises_an_edit_error(pieces: list[str], fmt: str) -> None:
    answer = "\n".join(pieces)
    try:
        changed = apply_edits(FILES, parse_edits(answer, fmt))
    except EditError as exc:
        assert exc.message
        return
    for path, text in changed.items():
        assert path in FILES or not path.startswith((".git", "..", "/"))
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_a_symbol_block_without_a_file_name_goes_to_the_file_defining_its_symbols() -> None:
    files = {**FILES, "src/shop/other.py": "def helper2():\n    return 2\n", "tests/test_x.py": ""}
    answer = "Here is the fix:\n```python\ndef empty():\n    return Cart([1])\n```\n"
    edits = parse_edits(answer, "symbol", files)
    assert [(e.path, type(e).__name__) for e in edits] == [(PATH, "SymbolEdit")]
    assert "return Cart([1])" in apply_edits(files, edits)[PATH]
    # a method's name finds its class's file too
    method = "```python\ndef count(self):\n    return 0\n```\n"
    assert parse_edits(method, "symbol", files)[0].path == PATH
    # no repository, or no single file defining it: the block still needs its name
    with pytest.raises(EditError, match="has no file name"):
        parse_edits(answer, "symbol")
    with pytest.raises(EditError, match="has no file name"):
        parse_edits("```python\ndef unknown():\n    pass\n```\n", "symbol", files)
    both = {**files, "src/shop/copy.py": CART}
    with pytest.raises(EditError, match="has no file name"):
        parse_edits(answer, "symbol", both)


def test_a_label_alone_on_the_blocks_first_line_and_a_fence_opened_twice() -> None:
    """What the embedded 1.5B model wrote on the billing pilot tasks: the fence, the label
    on the block's first line (no comment mark), then the fence opened again."""
    answer = (
        "```python\nsrc/shop/cart.py::Cart.count\n```python\n"
        "    def count(self):\n        return 0\n```\n"
    )
    assert parse_edits(answer, "symbol") == [
        SymbolEdit(PATH, "    def count(self):\n        return 0\n", "Cart.count")
    ]
    # a whole file, labelled before the fence, with the fence opened twice
    assert parse_edits(f"{PATH}\n```python\n```python\nA = 1\n```\n", "whole") == [
        WholeFile(PATH, "A = 1\n")
    ]
    # a shorter fence inside a longer one is the file's own text (a Markdown file)
    markdown = "````markdown docs/a.md\n```bash\nls\n```\n````\n"
    assert parse_edits(markdown, "whole") == [WholeFile("docs/a.md", "```bash\nls\n```\n")]
    # a first line that reads as code, not as a label, stays code
    code = f"{PATH}::Cart.total\n```python\ntotal = 1\n```\n"
    assert parse_edits(code, "symbol")[0].code == "total = 1\n"


def test_the_placeholder_path_of_the_instructions_goes_to_the_file_defining_the_class() -> None:
    """The 1.5B model copied ``path::`` from the instructions (``path::Invoice.to_dict``)."""
    files = {**FILES, "src/shop/other.py": "def helper2():\n    return 2\n", "tests/test_x.py": ""}
    new_method = "def size(self):\n    return len(self.items)\n"
    for answer in (
        f"path::Cart.size\n```python\n{new_method}```\n",
        f"**path::Cart.size**\n```python\n{new_method}```\n",
        f"```python path::Cart.size\n{new_method}```\n",
        f"```python\npath::Cart.size\n```python\n{new_method}```\n",
    ):
        (edit,) = parse_edits(answer, "symbol", files)
        assert edit == SymbolEdit(PATH, new_method, "Cart.size"), answer
        assert "def size(self):" in apply_edits(files, [edit])[PATH]
    # the placeholder before a real label; a module's name instead of a class
    helper = "def helper2():\n    return 3\n"
    for label in ("path::src/shop/other.py::helper2", "path::other.helper2"):
        (edit,) = parse_edits(f"```python\n{label}\n```python\n{helper}```\n", "symbol", files)
        assert edit == SymbolEdit("src/shop/other.py", helper, "helper2"), label
    # a name no file defines, or several do, still needs the file's name
    with pytest.raises(EditError, match="has no file name"):
        parse_edits(f"path::Basket.size\n```python\n{new_method}```\n", "symbol", files)
    unknown = "def nothing():\n    return 0\n"
    with pytest.raises(EditError, match="has no file name"):
        parse_edits(f"path::other.nothing\n```python\n{unknown}```\n", "symbol", files)
    both = {**files, "src/shop/copy.py": CART}
    with pytest.raises(EditError, match="has no file name"):
        parse_edits(f"path::Cart.size\n```python\n{new_method}```\n", "symbol", both)
