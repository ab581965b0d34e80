"""Incidents: alerts that fire together, grouped, with a root candidate and a timeline."""
