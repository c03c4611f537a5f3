"""Training Siamese trackers: pair sampling, augmentation, loss, and the training loop."""
