from . import burn
