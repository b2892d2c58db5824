"""Master data through the JSON API (issue 18): locations, clusters and the category tree."""
from __future__ import annotations

from . import bulkwrites as bulk, core

blp = core.blueprint("Master data", "Locations, clusters and the category tree")

bulk.route(blp, "/locations/bulk", "locations", "Locations")
bulk.route(blp, "/categories/bulk", "categories", "Categories")
