"""GET /odoo_operator_shop/burn?seconds=N spins the CPU for N seconds, so a
test can make a prefork worker hit limit_time_cpu for real."""

import time

from odoo import http


class Burn(http.Controller):
    @http.route("/odoo_operator_shop/burn", type="http", auth="none", methods=["GET"])
    def burn(self, seconds="3", **kw):
        end = time.process_time() + min(float(seconds), 30.0)
        n = 0
        while time.process_time() < end:
            n += 1
        return http.Response("burnt %d\n" % n, content_type="text/plain")
