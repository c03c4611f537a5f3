"""The per-frame step on torch tensors, for GPUs: crops, network, response head, all on the device.

On a GPU the SiamFC network is tiny; what costs time is the CPU work around it (cropping,
resizing, upsampling, copies, kernel launches). This package does that work on the device:
`crops` cuts crops by affine sampling, `head` finds the peaks, `step` ties
them to a backend and (on CUDA) replays the whole step as a CUDA graph. The numbers come back
to the CPU once per frame, as `Peak` objects the tracker consumes exactly
as it consumes the OpenCV path's.

Everything here runs on CPU tensors too, which is how it is tested against the OpenCV path.
"""
