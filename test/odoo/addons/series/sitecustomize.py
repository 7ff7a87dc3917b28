# Variant "series": v1's add-ons on an Odoo that says it is series 19.0.
# Odoo prefixes every module version with the series it runs
# (odoo.modules.module.adapt_version reads release.major_version), so base
# lists as 19.0.1.3, as on a 19.0 image. The sandbox has 18.0's source only:
# the sandbox-jobplayer puts this directory on PYTHONPATH for
# odoo:18.0-series, and an upgrade to it is refused by the preflight, which
# is all this variant is for (nothing else should run on it).
# odoo is not importable yet when Python runs this file (odoo-bin puts its
# own directory on sys.path), so odoo.release is patched when it is loaded.
import importlib.abc
import importlib.machinery
import sys


def _patch(release):
    release.version_info = (19, 0, 0, "final", 0, "")
    release.major_version = release.serie = "19.0"
    release.version = "19.0"


class _ReleaseFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != "odoo.release":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _ReleaseFinder())
