# Depends on odoo_operator_shop, so an upgrade orders the two.
{
    "name": "Odoo Operator Shop Report (test)",
    "version": "19.0.1.0.0",
    "summary": "Test add-on of the odoo-operator sandbox",
    "license": "LGPL-3",
    "depends": ["odoo_operator_shop"],
    "data": [],
    "auto_install": True,
    "installable": True,
}
