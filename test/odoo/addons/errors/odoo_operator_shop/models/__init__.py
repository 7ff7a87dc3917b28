from . import product
from . import price_sync
