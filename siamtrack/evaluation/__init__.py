"""Scoring trackers on annotated sequences (read by `siamtrack.datasets`): metrics, one-pass
evaluation, the harness that runs siamtrack and its peers, reports and comparisons between runs."""
