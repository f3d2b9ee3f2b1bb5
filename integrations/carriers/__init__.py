"""Carrier clients (Viettel Post, GHN) behind one interface; see `base.py`."""
