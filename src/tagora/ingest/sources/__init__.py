"""One sub-package per source format."""
