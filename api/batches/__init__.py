"""Pickup batches: the logistics desk's day (fill, pick, pack, hand over to the driver)."""
