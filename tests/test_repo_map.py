"""Repo context for a small model: symbols, named paths, ranking, the map, bounded reading."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codeagent.tools.repo.reading import parse_open_requests, render_opened
from codeagent.tools.repo.repomap import (
    Symbol,
    file_symbols,
    rank_files,
    referenced_paths,
    repo_map,
    split_words,
)

INVOICE = '''\
"""Invoices and their totals."""

from decimal import Decimal

from billing.base import Base

ZERO = Decimal(0)


@dataclass(frozen=True)
class Invoice(Base):
    """One invoice."""

    lines: list

    @property
    def count(self) -> int:
        return len(self.lines)

    def total(self, tax: Decimal = ZERO) -> Decimal:
        subtotal = sum(line.amount for line in self.lines)
        return subtotal * (1 + tax)


def load_invoice(
    path: str,
    *,
    strict: bool = True,  # refuse unknown fields
) -> Invoice:
    return Invoice([])
'''

# a src-layout library with tests, as `git ls-files` would list it
REPO = {
    "README.md": "# billing\n\nInvoices for small shops.\n",
    "pyproject.toml": "[project]\nname = 'billing'\n\n[tool.pytest.ini_options]\n",
    "src/billing/__init__.py": '"""Billing."""\n',
    "src/billing/base.py": "class Base:\n    def to_dict(self):\n        return {}\n",
    "src/billing/invoice.py": INVOICE,
    "src/billing/customer.py": (
        "class Customer:\n    def full_name(self):\n        return self.first + ' ' + self.last\n"
    ),
    "src/billing/tax.py": "def tax_rate(country: str) -> float:\n    return RATES[country]\n",
    "src/billing/report.py": "def render_report(invoices):\n    return '\\n'.join(invoices)\n",
    "tests/test_invoice.py": (
        "from billing.invoice import Invoice\n\n\ndef test_total_of_nothing():\n"
        "    assert Invoice([]).total() == 0\n"
    ),
    "tests/test_customer.py": "def test_full_name():\n    assert True\n",
    "tests/test_tax.py": "def test_tax_rate():\n    assert True\n",
}

TRACEBACK = """\
Traceback (most recent call last):
  File "/workspace/tests/test_tax.py", line 2, in test_tax_rate
    assert tax_rate("FR") == 0.2
  File "/workspace/src/billing/tax.py", line 2, in tax_rate
    return RATES[country]
NameError: name 'RATES' is not defined
"""


def test_python_symbols_carry_one_line_signatures_and_decorated_spans() -> None:
    symbols = file_symbols("src/billing/invoice.py", INVOICE)
    assert [(s.name, s.kind, s.line, s.end_line) for s in symbols] == [
        ("Invoice", "class", 10, 22),
        ("Invoice.count", "method", 16, 18),
        ("Invoice.total", "method", 20, 22),
        ("load_invoice", "function", 25, 30),
    ]
    by_name = {s.name: s.signature for s in symbols}
    assert by_name["Invoice"] == "class Invoice(Base)"
    assert by_name["Invoice.total"] == "def total(self, tax: Decimal = ZERO) -> Decimal"
    # split over lines, with a comment and a trailing comma: joined as written
    assert (
        by_name["load_invoice"] == "def load_invoice(path: str, *, strict: bool = True) -> Invoice"
    )


def test_python_signatures_keep_strings_and_async() -> None:
    text = 'async def fetch(url, sep="a  b", t=(1,)):\n    pass\n'
    (symbol,) = file_symbols("net.py", text)
    assert symbol == Symbol(
        "net.py", "fetch", "function", 'async def fetch(url, sep="a  b", t=(1,))', 1, 2
    )


def test_unparsable_python_and_other_files_have_no_symbols() -> None:
    assert file_symbols("broken.py", "def f(:\n") == []
    assert file_symbols("README.md", "def f():\n    pass\n") == []


def test_javascript_symbols_of_conventionally_formatted_code() -> None:
    text = """import x from "y";

export default function main(a, b) {
  return a;
}

export class Cart extends Base {
  constructor(items) {
    this.items = items;
  }

  async total(tax) {
    if (tax) {
      return 1;
    }
  }
}

const add = (a, b) => a + b;
export const mul = async (a, b) => {
  return a * b;
};
"""
    got = [(s.name, s.kind, s.signature, s.line, s.end_line) for s in file_symbols("a.ts", text)]
    assert got == [
        ("main", "function", "export default function main(a, b)", 3, 5),
        ("Cart", "class", "export class Cart extends Base", 7, 17),
        ("Cart.constructor", "method", "constructor(items)", 8, 10),
        ("Cart.total", "method", "async total(tax)", 12, 16),
        ("add", "function", "const add = (a, b) =>", 19, 19),
        ("mul", "function", "export const mul = async (a, b) =>", 20, 22),
    ]


def test_split_words_splits_identifiers_and_drops_stop_words() -> None:
    assert split_words("parseRowHTML_v2 of the InvoiceTotal fix") == [
        "parse",
        "row",
        "html",
        "invoice",
        "total",
    ]


def test_referenced_paths_in_order_of_first_mention() -> None:
    text = (
        "FAILED tests/test_invoice.py::test_total_of_nothing - see billing/invoice.py and "
        "`render_report` in billing.customer; tax_rate( is called, src/billing/invoice.py again"
    )
    assert referenced_paths(text, REPO) == [
        "tests/test_invoice.py",
        "src/billing/invoice.py",
        "src/billing/report.py",
        "src/billing/customer.py",
        "src/billing/tax.py",
    ]


def test_referenced_paths_reads_traceback_frames_in_both_forms() -> None:
    assert referenced_paths(TRACEBACK, REPO) == ["tests/test_tax.py", "src/billing/tax.py"]
    short = "src/billing/report.py:2: in render_report\n    return x\nE   TypeError"
    assert referenced_paths(short, REPO) == ["src/billing/report.py"]


def test_referenced_paths_ignores_prose_and_ambiguous_names() -> None:
    repo = {**REPO, "src/other/invoice.py": "def x():\n    pass\n"}
    # invoice.py ends two paths; `total` names one method, but as a bare word it is
    # prose: only name( or `name` counts
    assert referenced_paths("the invoice.py total is wrong, e.g. in 3.11 here", repo) == []
    assert referenced_paths("the `total` is wrong", repo) == ["src/billing/invoice.py"]


def test_a_task_naming_invoice_total_ranks_the_invoice_module_first() -> None:
    ranked = rank_files(REPO, "The invoice total is wrong when a tax is given")
    paths = [path for path, _ in ranked]
    assert paths[0] == "src/billing/invoice.py"
    assert paths.index("tests/test_invoice.py") < paths.index("src/billing/customer.py")
    assert sorted(paths) == sorted(REPO)  # every file, once
    assert ranked == rank_files(
        dict(reversed(list(REPO.items()))), "The invoice total is wrong when a tax is given"
    )


def test_a_traceback_ranks_the_innermost_frame_first() -> None:
    ranked = rank_files(REPO, TRACEBACK)
    assert [path for path, _ in ranked[:2]] == ["src/billing/tax.py", "tests/test_tax.py"]


def test_a_symbol_named_in_code_form_ranks_its_file() -> None:
    ranked = rank_files(REPO, "Customer.full_name drops the middle name")
    assert ranked[0][0] == "src/billing/customer.py"


def test_ties_are_broken_by_path_and_unrelated_files_score_zero() -> None:
    ranked = rank_files(REPO, "zzz")
    assert ranked == sorted(((path, 0.0) for path in REPO), key=lambda item: item[0])


def test_repo_map_lists_ranked_files_with_indented_signatures() -> None:
    text = repo_map(REPO, "The invoice total is wrong when a tax is given")
    head = text.splitlines()[:6]
    assert head == [
        "src/billing/invoice.py",
        "  class Invoice(Base)",
        "    def count(self) -> int",
        "    def total(self, tax: Decimal = ZERO) -> Decimal",
        "  def load_invoice(path: str, *, strict: bool = True) -> Invoice",
        "tests/test_invoice.py",
    ]
    assert "more files" not in text
    assert text == repo_map(REPO, "The invoice total is wrong when a tax is given")


def test_repo_map_cuts_at_the_budget_listing_paths_then_counting_the_rest() -> None:
    query = "The invoice total is wrong when a tax is given"
    text = repo_map(REPO, query, budget_chars=200)
    assert len(text) <= 200
    lines = text.splitlines()
    assert lines[0] == "src/billing/invoice.py"
    assert lines[-1].startswith("... and ") and lines[-1].endswith(" more files")
    listed = [line for line in lines if not line.startswith((" ", "..."))]
    hidden = int(lines[-1].split()[2])
    assert len(listed) + hidden == len(REPO)
    # past the symbol budget, files still come by path alone
    assert any(not line.startswith(" ") for line in lines[-3:-1])


def test_repo_map_with_a_huge_first_file_shows_part_of_its_symbols() -> None:
    big = "".join(f"def function_number_{i}(argument):\n    pass\n\n\n" for i in range(200))
    text = repo_map({"big.py": big, "small.py": "x = 1\n"}, "function", budget_chars=500)
    assert len(text) <= 500
    assert text.splitlines()[0] == "big.py"
    assert any(
        line.strip().startswith("... ") and "more symbols" in line for line in text.splitlines()
    )
    assert "small.py" in text


def test_a_budget_too_small_for_any_path_only_counts() -> None:
    assert repo_map(REPO, "invoice", budget_chars=25) == f"... and {len(REPO)} more files"


# --- the bounded read step ---------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        '{"open": ["src/billing/invoice.py", "src/billing/invoice.py::Invoice.total"]}',
        'Sure!\n```json\n["src/billing/invoice.py", "src/billing/invoice.py::Invoice.total"]\n```',
        "I need these:\n- `src/billing/invoice.py`\n- ./src/billing/invoice.py::Invoice.total\n",
        "open: src/billing/invoice.py\n"
        "src/billing/invoice.py::Invoice.total\nsrc/billing/invoice.py",
        "Let me look at src/billing/invoice.py and then src/billing/invoice.py::Invoice.total.",
    ],
)
def test_open_requests_are_read_from_json_lines_backticks_and_prose(answer: str) -> None:
    assert parse_open_requests(answer, 5) == [
        "src/billing/invoice.py",
        "src/billing/invoice.py::Invoice.total",
    ]


def test_open_requests_are_limited_and_drop_line_suffixes() -> None:
    answer = json.dumps({"open": ["a.py:12", "b.py", "c.py", "a.py"]})
    assert parse_open_requests(answer, 2) == ["a.py", "b.py"]
    assert parse_open_requests("Nothing to open, the task is clear, e.g. in 3.11.", 3) == []
    assert parse_open_requests('{"open": []}\nbut maybe src/a.py', 3) == []
    assert parse_open_requests("Open `src/a.py`: it returns [] wrongly", 3) == ["src/a.py"]


def test_render_opened_shows_a_file_with_its_line_span() -> None:
    text, opened, missing = render_opened(REPO, ["src/billing/tax.py"], 1000)
    assert text == (
        "src/billing/tax.py (lines 1-2 of 2)\n```python\n"
        "def tax_rate(country: str) -> float:\n    return RATES[country]\n```"
    )
    assert (opened, missing) == (["src/billing/tax.py"], [])


def test_render_opened_shows_one_symbol_with_its_start_line() -> None:
    text, opened, _ = render_opened(REPO, ["src/billing/invoice.py::total"], 1000)
    assert opened == ["src/billing/invoice.py::Invoice.total"]
    header, _, first, *_ = text.splitlines()
    assert header == "src/billing/invoice.py::Invoice.total (lines 20-22 of 30)"
    assert (
        INVOICE.splitlines()[19] == first == "    def total(self, tax: Decimal = ZERO) -> Decimal:"
    )


def test_render_opened_cuts_a_big_file_and_says_what_was_left_out() -> None:
    text, opened, _ = render_opened(REPO, ["src/billing/invoice.py"], 400)
    assert len(text) <= 400
    assert opened == ["src/billing/invoice.py"]
    header = text.splitlines()[0]
    shown = int(header.split("-")[1].split()[0])
    assert header.startswith("src/billing/invoice.py (lines 1-") and shown < 30
    marker = text.splitlines()[-1]
    assert marker.startswith(f"[{30 - shown} lines left out: {shown + 1}-30")
    assert "load_invoice (line 25)" in marker and "src/billing/invoice.py::Name" in marker


def test_render_opened_names_what_is_not_found_with_suggestions() -> None:
    requests = ["src/billing/invoce.py", "src/billing/invoice.py::Invoice.totl", "tax.py"]
    text, opened, missing = render_opened(REPO, requests, 2000)
    assert missing == requests[:2]
    assert opened == ["src/billing/tax.py"]
    assert (
        "[not found: src/billing/invoce.py: no such file; did you mean src/billing/invoice.py"
        in text
    )
    assert "did you mean src/billing/invoice.py::Invoice.total," in text
    assert "defines Invoice, Invoice.count, Invoice.total, load_invoice" in text


def test_render_opened_shares_the_budget_and_never_exceeds_it() -> None:
    requests = ["src/billing/invoice.py", "src/billing/customer.py", "src/nope.py"]
    for budget in (60, 150, 300, 700):
        text, opened, missing = render_opened(REPO, requests, budget)
        assert len(text) <= budget
        assert missing == ["src/nope.py"]
    text, opened, _ = render_opened(REPO, requests, 700)
    assert opened == requests[:2]  # both shown, the big one cut
    assert "src/billing/customer.py (lines 1-3 of 3)" in text


def test_a_file_holding_fences_gets_a_longer_fence() -> None:
    text, _, _ = render_opened({"doc.md": "```sh\nls\n```\n"}, ["doc.md"], 500)
    assert text.splitlines()[1] == "````markdown" and text.splitlines()[-1] == "````"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.integers(0, 400))
def test_any_text_gives_a_ranking_a_bounded_map_and_bounded_reading(text: str, budget: int) -> None:
    ranked = rank_files(REPO, text)
    assert sorted(path for path, _ in ranked) == sorted(REPO)
    assert len(repo_map(REPO, text, budget)) <= budget
    requests = parse_open_requests(text, 3)
    assert len(requests) <= 3
    shown, opened, missing = render_opened(REPO, [*requests, "src/billing/tax.py"], budget)
    assert len(shown) <= budget
    assert set(opened) | set(missing) <= {*requests, "src/billing/tax.py"} | {
        o for o in opened if "::" in o
    }


def test_a_named_test_opens_as_that_test_and_other_named_files_whole() -> None:
    from codeagent.nodes.repo_context import named_requests

    texts = {
        "tests/test_money.py": (
            "def test_a():\n    pass\n\n\nclass TestB:\n    def test_c(self):\n        pass\n"
        ),
        "src/money.py": "def allocate():\n    pass\n",
        "test/csv.test.js": "test('x', () => {});\n",
    }
    query = (
        "tests/test_money.py::test_a fails, and tests/test_money.py::TestB::test_c\n"
        "src/money.py:2: in allocate\ntest/csv.test.js::x fails"
    )
    assert named_requests(query, texts) == [
        "src/money.py",  # the code under test first
        "tests/test_money.py::test_a",
        "tests/test_money.py::TestB.test_c",
        "test/csv.test.js",  # not Python: the file
    ]
