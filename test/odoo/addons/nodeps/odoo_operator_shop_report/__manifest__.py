# Variant "nodeps": v1, but the report now depends on a module this image
# does not ship (odoo_operator_shop_extra). An upgrade to it is refused by
# the preflight: `-u all` would leave the report unloadable.
{
    "name": "Odoo Operator Shop Report (test)",
    "version": "18.0.1.0.0",
    "summary": "Test add-on of the odoo-operator sandbox",
    "license": "LGPL-3",
    "depends": ["odoo_operator_shop", "odoo_operator_shop_extra"],
    "data": [],
    "auto_install": True,
    "installable": True,
}
