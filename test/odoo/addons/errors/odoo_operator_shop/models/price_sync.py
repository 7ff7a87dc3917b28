"""A broken background job, on purpose: once a server (not an upgrade with
--stop-after-init) has loaded the registry, a thread queries a column that v1
does not have, every ERRORS_INTERVAL seconds, so the log gets psycopg's "bad
query" ERROR and an ERROR with a traceback each time."""

import logging
import threading
import time

from odoo import models
from odoo.tools import config

_logger = logging.getLogger(__name__)

ERRORS_INTERVAL = 2.0

_started = set()
_lock = threading.Lock()


def _sync_prices(registry):
    while True:
        time.sleep(ERRORS_INTERVAL)
        try:
            with registry.cursor() as cr:
                cr.execute("SELECT price_eur FROM odoo_operator_shop_product")
        except Exception:
            _logger.exception("price sync of database %s failed", registry.db_name)


class Product(models.Model):
    _inherit = "odoo_operator_shop.product"

    def _register_hook(self):
        super()._register_hook()
        if config.get("stop_after_init"):
            return
        db = self.env.registry.db_name
        with _lock:
            if db in _started:
                return
            _started.add(db)
        threading.Thread(
            target=_sync_prices, args=(self.env.registry,), name="odoo_operator_shop.price_sync", daemon=True
        ).start()
