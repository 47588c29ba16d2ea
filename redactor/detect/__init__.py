"""Detector plugins behind one interface (base.Detector), built from a profile."""
