"""The browser's copy of Vega, Vega-Lite and Vega-Embed, served by valuegap itself (no CDN: the
dashboard works on a network with no way out). ``vl-convert`` carries the libraries and bundles
them in about a second, so it is done once per process."""

from __future__ import annotations

from functools import cache

SNIPPET = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"


@cache
def javascript() -> str:
    """One script that sets ``window.vegaEmbed``, ``window.vegaLite`` and ``window.vega``."""
    import vl_convert

    return vl_convert.javascript_bundle(SNIPPET)
