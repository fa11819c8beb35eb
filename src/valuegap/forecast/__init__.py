"""What a business case expects: the adoption ramp, and from it the planned value and ROI by
month (the J-curve)."""
