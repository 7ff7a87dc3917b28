# Variant "errors": the v1 add-on at the same version, but once a server has
# loaded it a thread logs a real error with a traceback every two seconds
# (models/price_sync.py), for log monitoring and rollback; and
# /odoo_operator_shop/burn spins the CPU so a test can hit limit_time_cpu.
{
    "name": "Odoo Operator Shop (test)",
    "version": "18.0.1.0.0",
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
