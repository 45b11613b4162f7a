"""The accuracy-assessment dialog."""
