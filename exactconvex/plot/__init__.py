"""Pictures of the exact linear regions: polygons, facets coloured by bend, surfaces, planes.

The exact geometry (``region_drawing``, ``region_polygons``, ``default_window``) needs only the
core; the pictures (``plot_regions``, ``plot_drawing``, ``save_figure``) need matplotlib, the
optional extra ``plot`` (``pip install 'exactconvex[plot]'``), imported when a picture is made.

>>> from exactconvex import Network
>>> from exactconvex.plot import region_polygons
>>> net = Network.from_lists(2, [{"weight": [[1, 0], [-1, 0]]}, {"weight": [[1, 1]]}])
>>> [c.measure for c in region_polygons(net, window="-1,1,0,1")]
[1, 1]
"""

from __future__ import annotations

from .geometry import (FacetPiece, RegionCell, RegionDrawing, default_window, focus_window, parse_window,
                       polygon_area, polygon_centroid, region_drawing, region_polygons)

__all__ = ["plot_regions", "plot_drawing", "save_figure", "MatplotlibMissing", "region_drawing", "region_polygons",
           "default_window", "focus_window", "parse_window", "polygon_area", "polygon_centroid", "RegionDrawing",
           "RegionCell", "FacetPiece"]

_DRAW = {"plot_regions", "plot_drawing", "save_figure", "MatplotlibMissing", "FORMATS"}


def __getattr__(name: str):
    if name in _DRAW:  # the drawing module imports matplotlib only when a picture is made, but load it late anyway
        from . import draw

        return getattr(draw, name)
    raise AttributeError(f"module 'exactconvex.plot' has no attribute {name!r}")
