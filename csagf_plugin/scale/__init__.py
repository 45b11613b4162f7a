"""Scale-out: core's classify run over blocks of the tile grid on a Dask cluster (local or remote), then assembled.

Nothing here classifies: each block is `core.classify.classify_scene` with `ClassifyConfig.block` set, the call
a single process makes for the whole scene.  This package schedules the blocks, resumes, and assembles outputs.
"""
