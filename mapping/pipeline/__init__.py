"""The pipeline: from the data package to a published build and its releases.

* :mod:`~mapping.pipeline.build` — the build: validated sources to tables, geometry, the index
  and a manifest, published in one step;
* :mod:`~mapping.pipeline.derive` — every registered indicator at LSOA 2021, ward and borough;
* :mod:`~mapping.pipeline.disclosure` — the small-count rule (DR-0004);
* :mod:`~mapping.pipeline.staging` — publishing a folder in one rename (builds and releases);
* :mod:`~mapping.pipeline.locking` — one build or release at a time per output folder;
* :mod:`~mapping.pipeline.release` and :mod:`~mapping.pipeline.datapackage` — versioned,
  never-overwritten releases with their data package descriptor.
"""
