# Before the model is loaded: keep the text prices aside, so that the ORM can
# recreate "price" as a number.
def migrate(cr, version):
    if not version:
        return
    cr.execute("ALTER TABLE odoo_operator_shop_product RENAME COLUMN price TO price_text_v1")
