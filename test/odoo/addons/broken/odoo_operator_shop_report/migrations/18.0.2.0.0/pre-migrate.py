# The failure this variant exists for: an upgrade that breaks part-way, after
# odoo_operator_shop was migrated and committed.


def migrate(cr, version):
    if not version:
        return
    raise Exception(
        "odoo_operator_shop_report: cannot convert the price column of "
        "odoo_operator_shop_report_line to the new currency layout"
    )
