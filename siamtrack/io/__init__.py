"""The outside world: frame sources (`sources`: cameras, files, streams, folders), result and
video outputs (`outputs`, `formats`), files written atomically and locks (`files`), and model
downloads (`downloads`).

Imports: the tracking core's results and the model files; never the application, serve or batch.
"""
