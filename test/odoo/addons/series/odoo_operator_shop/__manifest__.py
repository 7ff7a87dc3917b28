# The sandbox's test add-on, first version: a price as text. Installed with
# base (auto_install) so an init of `odoo:18.0-v1` has it.
{
    "name": "Odoo Operator Shop (test)",
    "version": "19.0.1.0.0",
    "summary": "Test add-on of the odoo-operator sandbox",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": [
        "security/ir.model.access.csv",
        "data/products.xml",
    ],
    "auto_install": True,
    "installable": True,
}
