"""``istiolint diff``: what a change does to objects, access and findings."""
