"""Network training, export and evaluation (torch); imports are lazy so QGIS starts fast.

Entry points, each one typed-config call with a Progress (core.progress) and a warn callback:
  tiles.prepare_tiles(PrepareConfig, progress, warn) -> TileStore    (csagf:prepare_training_data)
  fit.train(TrainConfig, progress, warn, log=None) -> TrainResult     (csagf:train)
  evaluate.evaluate(EvaluateConfig, progress, warn) -> EvaluationResult   (csagf:evaluate)
Command line: python -m csagf_plugin.training {prepare,train,evaluate} --help
"""
