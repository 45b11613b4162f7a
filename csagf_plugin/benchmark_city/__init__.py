"""A SYNTHETIC, seeded benchmark city: VHR imagery, night-time light and functional-zone labels that need both.

`generate_city` writes three GeoTIFFs and a JSON card; the scene is rendered window by window, so its size is
bounded by disk, not memory.  See docs/benchmark_city.md.
"""

from .generate import CityPaths, generate_city
from .layout import CityLayout

__all__ = ["CityLayout", "CityPaths", "generate_city"]
