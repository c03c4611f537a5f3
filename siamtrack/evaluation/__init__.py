"""Scoring trackers on annotated sequences: dataset readers, metrics, one-pass evaluation."""
