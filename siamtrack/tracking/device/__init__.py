"""The ``tensor`` pipeline: a frame's crops, network call and peak finding on the backend's device.

On a GPU the network is tiny; what costs time is the CPU work around it (cropping, resizing,
upsampling, copies, kernel launches). This package does that work on the device: `crops` cuts
crops by affine sampling, `peaks` finds response peaks, `pipeline` ties them to a backend and (on
CUDA) replays a frame's work as a CUDA graph. What comes back to the CPU once per frame is read by
the same step as on the ``opencv`` pipeline (`siamtrack.tracking.readout`): each target's peak
for a response model, the maps themselves for a box head.

Everything here runs on CPU tensors too, which is how it is tested against the ``opencv`` pipeline.
"""
