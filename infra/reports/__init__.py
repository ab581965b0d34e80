"""Reports: rendering (render/), the scheduler and deliveries, artefact downloads."""
