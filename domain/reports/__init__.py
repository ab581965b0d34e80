"""Reports: scheduled and on-demand documents (PDF, HTML, CSV, JSON) built from a project's
dashboards, series, analytics, alerts, usage and cost, and the event that says one is ready."""
