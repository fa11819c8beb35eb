"""Charts as Vega-Lite specs: drawn in the browser from the bundled Vega libraries, and
rendered to SVG, PNG or PDF for reports. One spec, both outputs."""
