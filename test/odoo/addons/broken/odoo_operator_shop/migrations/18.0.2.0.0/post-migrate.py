# After the model is loaded ("price" is numeric, "currency" exists): split
# each "12.50 EUR" into 12.5 and EUR, then drop the old column.
def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        UPDATE odoo_operator_shop_product
           SET price = NULLIF(split_part(trim(price_text_v1), ' ', 1), '')::numeric,
               currency = NULLIF(split_part(trim(price_text_v1), ' ', 2), '')
         WHERE price_text_v1 IS NOT NULL
    """)
    cr.execute("ALTER TABLE odoo_operator_shop_product DROP COLUMN price_text_v1")
