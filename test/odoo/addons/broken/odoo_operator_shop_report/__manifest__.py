# Variant "broken": v2 of the report, which depends on the shop, so an
# upgrade loads it after the shop is migrated and committed; its migration
# then raises on purpose (a real partial upgrade).
{
    "name": "Odoo Operator Shop Report (test)",
    "version": "18.0.2.0.0",
    "summary": "Test add-on of the odoo-operator sandbox",
    "license": "LGPL-3",
    "depends": ["odoo_operator_shop"],
    "data": [],
    "auto_install": True,
    "installable": True,
}
