"""Deterministic synthetic clips with known ground truth, for tests and demos.

A textured object moves along a smooth path over a cluttered background, changes scale, may
turn (in-plane rotation) and may pass behind an occluder; each frame gets sensor noise. The same
seed always gives the same clip, so tests can assert on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from siamtrack.results import Box


@dataclass(frozen=True)
class ClipSpec:
    """Parameters of a synthetic clip.

    Attributes:
        frames: number of frames.
        width, height: frame size in pixels.
        object_size: (w, h) of the object at scale 1.
        scale_range: smallest and largest scale along the clip (smooth oscillation).
        max_rotation_deg: amplitude of the in-plane rotation (0 keeps it upright).
        occlusion: whether an occluding bar crosses the object around the middle of the clip.
        noise_sigma: standard deviation of per-frame Gaussian noise (grey levels).
        offscreen: (first, end) frame range during which the object is wholly outside the
            frame: it slides out through the right edge over the 8 frames before ``first`` and
            back in over the 8 frames from ``end``. (0, 0): it never leaves.
        seed: random seed; the clip is a pure function of the spec.
    """

    frames: int = 60
    width: int = 480
    height: int = 360
    object_size: tuple[int, int] = (64, 48)
    scale_range: tuple[float, float] = (0.8, 1.25)
    max_rotation_deg: float = 0.0
    occlusion: bool = False
    noise_sigma: float = 4.0
    offscreen: tuple[int, int] = (0, 0)
    seed: int = 0


def _fractal_noise(rng: np.random.Generator, width: int, height: int, octaves: int = 5) -> np.ndarray:
    """Sum of smooth random fields at halving scales (1/f-like), normalised to [0, 1]."""
    total = np.zeros((height, width), np.float32)
    for octave in range(octaves):
        cell = max(2, 64 >> octave)
        low = rng.random((height // cell + 2, width // cell + 2)).astype(np.float32)
        total += cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC) / (1 << octave)
    total -= total.min()
    return total / max(float(total.max()), 1e-6)


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A scene-like backdrop: lit sky and ground with natural texture, and muted clutter."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    horizon = float(rng.uniform(0.25, 0.45))
    sky = np.array(rng.uniform([170, 140, 110], [235, 205, 170]), np.float32)  # BGR, bluish
    ground = np.array(rng.uniform([60, 90, 90], [110, 140, 150]), np.float32)  # greys, browns
    blend = np.clip((rows - horizon) / 0.08 + 0.5, 0.0, 1.0)
    image = (1 - blend) * sky + blend * ground
    texture = _fractal_noise(rng, width, height)[:, :, None]
    image = image * (0.7 + 0.6 * texture)
    for _ in range(45):  # buildings, poles, bushes, signs: muted colors, some with edges
        color = tuple(float(c) for c in rng.uniform(40, 200, 3) * rng.uniform(0.6, 1.0))
        x, y = int(rng.integers(0, width)), int(rng.integers(int(height * horizon * 0.6), height))
        w, h = int(rng.integers(6, 80)), int(rng.integers(6, 90))
        kind = rng.random()
        if kind < 0.45:
            cv2.rectangle(image, (x, y - h), (x + w, y), color, -1)
            cv2.rectangle(image, (x, y - h), (x + w, y), tuple(c * 0.6 for c in color), 1)
        elif kind < 0.8:
            cv2.ellipse(image, (x, y), (w // 2 + 2, h // 3 + 2), float(rng.uniform(0, 180)), 0, 360, color, -1)
        else:
            cv2.line(image, (x, y), (x + int(rng.integers(-20, 20)), y - h), color, int(rng.integers(1, 4)))
    shading = _fractal_noise(rng, width, height, octaves=2)[:, :, None]
    image = image * (0.8 + 0.4 * shading)
    return cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (3, 3), 0)


def _object_texture(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A distinctive pattern: colored checkerboard, stripes and blobs."""
    texture = np.zeros((height, width, 3), np.uint8)
    cell = max(4, min(width, height) // 6)
    colors = rng.integers(0, 256, size=(2, 3))
    for row in range(0, height, cell):
        for col in range(0, width, cell):
            color = colors[((row // cell) + (col // cell)) % 2]
            texture[row:row + cell, col:col + cell] = color
    for _ in range(6):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = int(rng.integers(3, max(4, min(width, height) // 3)))
        cv2.circle(texture, center, radius, tuple(int(c) for c in rng.integers(0, 256, 3)), -1)
    cv2.rectangle(texture, (0, 0), (width - 1, height - 1), (20, 20, 20), 2)
    return texture


EXIT_FRAMES = 8  # frames the object takes to slide out of (or back into) the frame


def _exit_shift(index: int, offscreen: tuple[int, int], distance: float) -> float:
    """How far right of its path the object is: 0 on the path, ``distance`` = out of the frame."""
    first, end = offscreen
    if first >= end:
        return 0.0
    if index < first:
        progress = 1.0 - (first - index) / EXIT_FRAMES
    elif index < end:
        progress = 1.0
    else:
        progress = 1.0 - (index - end + 1) / EXIT_FRAMES
    progress = min(max(progress, 0.0), 1.0)
    return distance * (0.5 - 0.5 * math.cos(math.pi * progress))  # smooth start and stop


def make_clip(spec: ClipSpec = ClipSpec()) -> tuple[list[np.ndarray], np.ndarray]:
    """Render a clip.

    Returns:
        ``(frames, boxes)``: BGR uint8 frames and an (N, 4) array of 0-based (x, y, w, h)
        ground-truth boxes (the axis-aligned bounds of the object, occluded or not).
    """
    rng = np.random.default_rng(spec.seed)
    background = _background(rng, spec.width, spec.height)
    obj_w, obj_h = spec.object_size
    texture = _object_texture(rng, obj_w, obj_h)
    mask = np.full((obj_h, obj_w), 255, np.uint8)
    margin = 0.5 * max(obj_w, obj_h) * spec.scale_range[1] + 4
    phase = rng.uniform(0, 2 * math.pi, size=3)
    frames, boxes = [], []
    for index in range(spec.frames):
        t = index / max(spec.frames - 1, 1)
        cx = spec.width / 2 + (spec.width / 2 - margin) * math.sin(2 * math.pi * 0.8 * t + phase[0])
        cy = spec.height / 2 + (spec.height / 2 - margin) * math.sin(2 * math.pi * 0.6 * t + phase[1])
        low, high = spec.scale_range
        scale = low + (high - low) * 0.5 * (1 + math.sin(2 * math.pi * t + phase[2]))
        angle = spec.max_rotation_deg * math.sin(2 * math.pi * 1.3 * t)
        cx += _exit_shift(index, spec.offscreen, spec.width + max(obj_w, obj_h) * high - cx)
        # Object pixel (u, v) -> frame: rotate and scale about the object's center, then place it.
        matrix = cv2.getRotationMatrix2D(((obj_w - 1) / 2, (obj_h - 1) / 2), angle, scale)
        matrix[:, 2] += np.array([cx - (obj_w - 1) / 2, cy - (obj_h - 1) / 2])
        layer = cv2.warpAffine(texture, matrix, (spec.width, spec.height), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(mask, matrix, (spec.width, spec.height), flags=cv2.INTER_LINEAR)
        weight = (alpha.astype(np.float32) / 255.0)[:, :, None]
        frame = background * (1 - weight) + layer * weight
        corners = np.array([[0, 0, 1], [obj_w, 0, 1], [0, obj_h, 1], [obj_w, obj_h, 1]], np.float64)
        placed = corners @ matrix.T - 0.5 * (1 - scale)  # pixel edges, not centers
        left, top = placed.min(axis=0)
        right, bottom = placed.max(axis=0)
        boxes.append((left, top, right - left, bottom - top))
        if spec.occlusion and 0.45 <= t <= 0.55:
            bar_x = int(cx - obj_w * scale)
            cv2.rectangle(frame, (bar_x, 0), (bar_x + int(obj_w * scale * 0.9), spec.height - 1),
                          (90, 110, 70), -1)
        frame = frame + rng.normal(0, spec.noise_sigma, frame.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames, np.array(boxes, dtype=np.float64)


def make_crossing_clip(frames: int = 60, width: int = 480, height: int = 270, object_size: tuple[int, int] = (56, 44),
                       noise_sigma: float = 3.0, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Two different objects cross paths: A moves left to right, B right to left in front of it.

    Their vertical positions converge so that B covers much of A at the crossing (the middle
    frame); a tracker must keep each on its own object afterwards.

    Returns:
        ``(frames, boxes_a, boxes_b)``: BGR frames and each object's (N, 4) 0-based boxes.
    """
    rng = np.random.default_rng(seed)
    background = _background(rng, width, height)
    obj_w, obj_h = object_size
    textures = [_object_texture(rng, obj_w, obj_h) for _ in range(2)]
    images: list[np.ndarray] = []
    boxes: tuple[list[Box], list[Box]] = ([], [])
    for index in range(frames):
        t = index / max(frames - 1, 1)
        frame: np.ndarray = background.astype(np.float32)
        positions = (
            (0.1 * width + 0.8 * width * t - obj_w / 2, 0.5 * height - 0.3 * obj_h * (1 - 2 * t) - obj_h / 2),
            (0.9 * width - 0.8 * width * t - obj_w / 2, 0.5 * height + 0.3 * obj_h - obj_h / 2),
        )
        for texture, (left, top), record in zip(textures, positions, boxes):  # B drawn last: in front
            x, y = int(round(left)), int(round(top))
            frame[y:y + obj_h, x:x + obj_w] = texture
            record.append((x, y, obj_w, obj_h))
        frame = frame + rng.normal(0, noise_sigma, frame.shape)
        images.append(np.clip(frame, 0, 255).astype(np.uint8))
    return images, np.array(boxes[0], np.float64), np.array(boxes[1], np.float64)
