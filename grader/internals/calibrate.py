"""Does the swap-in model (the concrete model with the solution's own layers) land in the band of
the same model with Keras' layers?  ``python -m grader.internals.calibrate [--seeds N]`` trains
it with the first assignment's protocol for N seeds and prints each run's lowest and final
val_loss beside the Keras-layer model's calibrated band (grader/reference.json, spotify_q3)."""
from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.internals.calibrate", description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    from ..quiet import import_tensorflow

    keras = import_tensorflow()
    from keras import layers, ops

    from ..reference import band
    from ..data import splits
    from ..training import evaluate
    from .questions import BATCHNORM, SWAP_IN, solution_code

    namespace = {"keras": keras, "layers": layers, "ops": ops}
    exec(solution_code(BATCHNORM), namespace)
    reference, protocol = band("spotify_q3"), SWAP_IN.protocol
    X_train, X_valid, y_train, y_valid = splits(protocol.data)
    namespace["input_shape"] = [X_train.shape[1]]
    print(f"Keras-layer model (10 seeds): lowest val_loss {reference.low:.4f}-{reference.high:.4f}, "
          f"threshold {reference.threshold:.4f}; final {reference.final_low:.4f}-{reference.final_high:.4f}, "
          f"threshold {reference.final_threshold:.4f}")
    inside = True
    for seed in range(args.seeds):
        keras.utils.set_random_seed(seed)
        exec(SWAP_IN.solution_code, namespace)
        model = namespace["model"]
        model.compile(optimizer=protocol.optimizer, loss=protocol.loss)
        history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid), batch_size=protocol.batch_size,
                            epochs=protocol.epochs, verbose=0).history
        lowest, final = min(history["val_loss"]), evaluate(model, protocol)
        ok = lowest <= reference.threshold and final <= reference.final_threshold
        inside &= ok
        print(f"seed {seed}: lowest val_loss {lowest:.4f}, final {final:.4f} {'inside' if ok else 'OUTSIDE'}")
    return 0 if inside else 1


if __name__ == "__main__":
    raise SystemExit(main())
