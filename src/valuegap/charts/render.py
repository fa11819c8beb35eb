"""A chart's spec rendered for a report: SVG, PNG or PDF, by vl-convert (no browser needed)."""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]


def to_svg(spec: Spec) -> str:
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec)
    return svg


def to_png(spec: Spec, scale: float = 2.0) -> bytes:
    """The chart as PNG, at ``scale`` times its size in CSS pixels (2: sharp when printed)."""
    import vl_convert

    png: bytes = vl_convert.vegalite_to_png(spec, scale=scale)
    return png


def to_pdf(spec: Spec) -> bytes:
    import vl_convert

    pdf: bytes = vl_convert.vegalite_to_pdf(spec)
    return pdf
