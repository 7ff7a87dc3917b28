from odoo import fields, models


class OdooOperatorShopProduct(models.Model):
    _name = "odoo_operator_shop.product"
    _description = "Sandbox shop product"

    name = fields.Char(required=True)
    # Version 1 keeps the price as text, e.g. "12.50 EUR"; version 2
    # migrates it to a number and a currency.
    price = fields.Char()
