from datetime import date

from billing.discount import parse_code
from billing.invoice import Invoice
from billing.render import render_invoice
from billing.tax import TaxRule


def _rendered(width=60):
    invoice = Invoice("7", issued=date(2024, 5, 2), terms="NET 10")
    invoice.add("Consulting", "120.00", quantity=3)
    invoice.discounts.append(parse_code("SAVE10"))
    invoice.taxes.append(TaxRule("VAT", "20"))
    return render_invoice(invoice, width).splitlines()


def test_every_line_has_the_width():
    assert {len(line) for line in _rendered()} == {60}
    assert {len(line) for line in _rendered(72)} == {72}


def test_header_and_totals():
    lines = _rendered()
    assert lines[0].startswith("INVOICE 7")
    assert lines[0].endswith("due 2024-05-12")
    assert lines[2].startswith("Consulting  3 x $120.00")
    assert lines[2].endswith("$360.00")
    assert lines[-3].endswith("-$36.00")
    assert lines[-2].startswith("VAT") and lines[-2].endswith("$64.80")
    assert lines[-1].startswith("Total") and lines[-1].endswith("$388.80")
