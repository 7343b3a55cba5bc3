"""Training speed on this CPU: ``Trainer.fit`` img/s for each speed option, and the pipeline cost.

    python benchmarks/training_throughput.py [--model vgg_m] [--images 3840] [--epochs 3]
        [--options float32,mixed_bfloat16,xla,crop40,...] [--accuracy N]

Each option trains ``--model`` through :class:`emorec.Trainer` (the real ``tf.data``
pipeline, default augmentation, SGD, batch 128) in a fresh Python process, so that dtype
policies and thread settings never leak between options; the first epoch (tracing) is not
counted. Options (combine with ``+``, for example ``mixed_bfloat16+crop40``):

- ``float32``: today's default;
- ``mixed_bfloat16``: ``Trainer(precision="mixed_bfloat16")``;
- ``xla``: ``Trainer(jit_compile=True)``;
- ``crop40``: ``model_kwargs={"crop": 40}`` (random 40 px crops of the 48 px faces);
- ``threads=I,J``: ``tf.config.threading`` intra-op I, inter-op J threads;
- ``omp=N``: ``OMP_NUM_THREADS=N``;
- ``jax``: ``KERAS_BACKEND=jax`` with the Python of ``--jax-python`` (a venv with jax);
- ``teacher=NAME``: knowledge distillation from the model ``NAME`` (``distill=0.7``), so the
  teacher's share of a distillation run's time shows (e.g. ``--model mini_xception
  --options float32,teacher=fer2013_vgg_m``).

``--pipeline`` also measures the input pipeline's overhead: the same model fed one in-memory
batch over and over. ``--accuracy N`` (FER2013 needed, ``--data``) trains each option for N
epochs on the train split and reports the accuracy on a validation split carved from train
(10 %, stratified, seed 0), so that an option that is faster but learns worse shows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parents[1] / "shared" / "datasets" / "fer2013" / "fer2013.zip"
DEFAULT_OPTIONS = (
    "float32,threads=2,1,omp=2,xla,mixed_bfloat16,mixed_bfloat16+xla,crop40,mixed_bfloat16+crop40"
)


def parse(option: str) -> dict[str, object]:
    """``"mixed_bfloat16+crop40"`` -> the Trainer keyword arguments and environment it means."""
    out: dict[str, object] = {"trainer": {}, "model_kwargs": {}, "env": {}, "threads": None}
    for part in option.split("+"):
        if part == "float32":
            continue
        if part in ("mixed_bfloat16", "mixed_float16"):
            out["trainer"]["precision"] = part  # type: ignore[index]
        elif part == "xla":
            out["trainer"]["jit_compile"] = True  # type: ignore[index]
        elif part.startswith("crop"):
            out["model_kwargs"]["crop"] = int(part[4:])  # type: ignore[index]
        elif part.startswith("threads="):
            out["threads"] = [int(v) for v in part[8:].split(",")]
        elif part.startswith("omp="):
            out["env"]["OMP_NUM_THREADS"] = part[4:]  # type: ignore[index]
        elif part.startswith("teacher="):
            out["trainer"]["teacher"] = part[8:]  # type: ignore[index]
            out["trainer"]["distill"] = 0.7  # type: ignore[index]
        elif part == "jax":
            out["env"]["KERAS_BACKEND"] = "jax"  # type: ignore[index]
        else:
            raise SystemExit(f"unknown option {part!r} in {option!r}")
    return out


def child(args: argparse.Namespace) -> None:
    """Run one option in this process; print one JSON line."""
    import numpy as np

    spec = parse(args.child)
    import keras

    if spec["threads"]:
        import tensorflow as tf

        intra, inter = spec["threads"]  # type: ignore[misc]
        tf.config.threading.set_intra_op_parallelism_threads(intra)
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    from emorec import EmotionDataset, Trainer

    if args.accuracy:
        ds = EmotionDataset.from_directory(args.data, progress_bar=None)
        epochs = args.accuracy
    else:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (args.images, 48, 48), np.uint8)
        ds = EmotionDataset.from_arrays(images, rng.integers(0, 7, args.images))
        epochs = args.epochs

    class Timer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            self.times.append(time.perf_counter() - self.start)

    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(
            args.model,
            ds,
            batch_size=args.batch,
            epochs=epochs,
            schedule="cosine" if args.accuracy else "constant",
            learning_rate=0.05 if args.accuracy else 0.01,
            seed=0,
            output_dir=out,
            verbose=0,
            val_split=0.1 if args.accuracy else None,
            model_kwargs=spec["model_kwargs"],  # type: ignore[arg-type]
            **spec["trainer"],  # type: ignore[arg-type]
        )
        timer = Timer()
        trainer.callbacks.append(timer)
        history = trainer.fit()
        images = len(trainer.dataset[trainer.train_split])
        if args.pipeline:
            import tensorflow as tf

            x = tf.constant(np.zeros((args.batch, 48, 48, 1), "float32"))
            y = tf.constant(keras.utils.to_categorical(np.zeros(args.batch), 7))
            memory = tf.data.Dataset.from_tensors((x, y)).repeat()
            steps = -(-images // args.batch)
            bare = Timer()
            trainer.model.fit(memory, epochs=3, steps_per_epoch=steps, callbacks=[bare], verbose=0)
            memory_rate = steps * args.batch / float(np.median(bare.times[1:]))
    result = {
        "option": args.child,
        "img_s": images / float(np.median(timer.times[1:])),
        "epochs_s": [round(t, 1) for t in timer.times],
        "backend": keras.backend.backend(),
    }
    if args.accuracy:
        result["val_accuracy"] = float(history.history["val_accuracy"][-1])
    if args.pipeline:
        result["memory_img_s"] = memory_rate
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vgg_m")
    parser.add_argument("--images", type=int, default=3840, help="random images an epoch")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--options", default=DEFAULT_OPTIONS)
    parser.add_argument("--pipeline", action="store_true", help="also the pipeline overhead")
    parser.add_argument("--accuracy", type=int, default=0, metavar="EPOCHS")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument(
        "--jax-python", default=str(Path.home() / "venvs" / "jax" / "bin" / "python")
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sys.path.insert(0, str(HERE))
    from _machine import describe_machine

    print(describe_machine())
    what = (
        f"{args.accuracy} epochs of FER2013 train"
        if args.accuracy
        else (
            f"{args.images} random 48x48 images an epoch, {args.epochs} epochs (first not counted)"
        )
    )
    print(f"{args.model}, batch {args.batch}, {what}:")
    options = _split(args.options)
    base = None
    for option in options:
        spec = parse(option)
        env = {**os.environ, **spec["env"]}  # type: ignore[dict-item]
        python = args.jax_python if env.get("KERAS_BACKEND") == "jax" else sys.executable
        command = [python, __file__, "--child", option, "--model", args.model]
        command += ["--images", str(args.images), "--batch", str(args.batch)]
        command += ["--epochs", str(args.epochs), "--accuracy", str(args.accuracy)]
        command += ["--data", args.data] + (["--pipeline"] if args.pipeline else [])
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode or not lines:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            print(f"  {option:<28} failed: {tail[0]}")
            continue
        r = json.loads(lines[0][7:])
        base = base or r["img_s"]
        extra = f"  val accuracy {r['val_accuracy']:.1%}" if "val_accuracy" in r else ""
        if "memory_img_s" in r:
            extra += f"  (in-memory {r['memory_img_s']:,.0f} img/s: pipeline overhead "
            extra += f"{100 * (1 - r['img_s'] / r['memory_img_s']):.1f} %)"
        print(
            f"  {option:<28} {r['img_s']:7,.0f} img/s  x{r['img_s'] / base:.2f}{extra}  "
            f"(epochs: {', '.join(f'{t} s' for t in r['epochs_s'])})",
            flush=True,
        )


def _split(options: str) -> list[str]:
    """Split the option list on commas, keeping ``threads=I,J`` whole."""
    out: list[str] = []
    for piece in options.split(","):
        if out and out[-1].split("+")[-1].startswith("threads=") and "," not in out[-1]:
            out[-1] += "," + piece
        else:
            out.append(piece)
    return out


if __name__ == "__main__":
    main()
