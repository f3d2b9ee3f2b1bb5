"""Import every table model so the metadata (and Alembic) sees the whole schema."""

from api.accounts.models import ApiToken, User
from api.catalogue.models import Product, StockMovement, Variant
from api.cooperatives.models import Cooperative
from api.core.db import metadata

__all__ = ["ApiToken", "Cooperative", "Product", "StockMovement", "User", "Variant", "metadata"]
