from odoo import fields, models


class OdooOperatorShopProduct(models.Model):
    _name = "odoo_operator_shop.product"
    _description = "Sandbox shop product"

    name = fields.Char(required=True)
    # Version 2: the text price of version 1 ("12.50 EUR") split into a
    # number and a currency by migrations/18.0.2.0.0.
    price = fields.Float()
    currency = fields.Char()
