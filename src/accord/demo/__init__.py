"""The synthetic demo county. Every name here is invented; the UI marks it DEMO."""
