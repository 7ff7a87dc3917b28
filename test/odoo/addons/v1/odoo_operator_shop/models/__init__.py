from . import product
