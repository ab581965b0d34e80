"""Compliance: audit chain verification, access reviews and revocations, compliance checks
and reports (SOC 2, ISO 27001), and their events."""
