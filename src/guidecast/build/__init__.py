"""Build: a catalog of variants (`guidecast.yaml`), made incrementally on a pool or Dask."""
