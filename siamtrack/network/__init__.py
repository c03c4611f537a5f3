"""The Siamese network (PyTorch): backbone, cross-correlation, and their assembly."""
