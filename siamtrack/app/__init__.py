"""The tracking application around the core: the capture loop (`loop`), target events
(`events`), progress and frame rate (`progress`), the live window (`display`), drawing
(`annotate`) and the demo with its synthetic video (`demo`, `synthetic`).

Imports: everything below it (tracking, model, I/O, detection); used by the command line,
batch and serve.
"""
