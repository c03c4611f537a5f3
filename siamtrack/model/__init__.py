"""What a model is: its metadata (`metadata`: geometry, head, normalisation), its weights files
(`weights`: load, save, formats) and the built-in models shipped in ``weights/`` (`builtin`).

Imports: the top-level `config`, `errors`; nothing of tracking, I/O or the application.
"""
