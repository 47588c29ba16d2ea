"""Helpers the tests share, imported as `support.<module>` (tests/ is on pytest's path):

- fakes.py: stand-in detectors (raising, returning garbage, hanging, finding nothing);
- boxes.py: synthetic boxes and how much of one a set of masks covers;
- configs.py: configuration the tests' servers share (exports under a temporary folder);
- procs.py: measurements of the test process itself (resident memory).

A helper used by one folder's tests only stays in that folder's *_helpers.py."""
