"""The DCC family of conditional-correlation models (DCC, cDCC, ADCC, CCC)."""
