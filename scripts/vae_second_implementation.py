"""A second, independent implementation of the §4.2 discrete VAE in plain PyTorch, trained to the
end: does a model written without SBNLab's code reach the same −ELBO as `sbnlab run` on the same
setting? It separates "our implementation is off" from "this model, prior and protocol give this
number" when a column is far from Jang et al. 2017's table (docs/results.md, §4.2).

The model is scripts/pytorch_reference.py's VAE (mlp 784-512-256-z-256-512-784, ReLU; 20×10
categorical or 200 Bernoulli latents, uniform prior, the paper's relaxed objective with the
discrete densities). The schedule is SBNLab's `exponential`: τ = max(τ_min, exp(−r·t)), t rounded
down to a multiple of `every` (Jang et al. 2017 §4.2). Model selection as SBNLab's: the validation
−ELBO (one hard sample per image) every `--valid-every` epochs; the best-validation parameters are
tested with the mean of `--test-samples` hard samples per image (the −ELBO; ± the per-image
standard error). Not part of the test suite (PyTorch is not a test dependency); about 10–15 s an
epoch on one core.

    python3 scripts/vae_second_implementation.py --latent bernoulli --epochs 150 --out results/vae-gs-second-implementation/result.json
"""
import argparse
import copy
import json
import math
import os
import time

import h5py
import numpy as np
import torch

from pytorch_reference import VAE


def split(path, name):
    with h5py.File(path, "r") as f:
        return torch.from_numpy(f[name + "/images"][:].astype(np.float32))


def temperature(step, args):
    return max(args.tau_min, math.exp(-args.rate * (step // args.every * args.every)))


@torch.no_grad()
def neg_elbo(model, images, samples, chunk=500):
    """Per image, the mean over `samples` hard draws of -log p(x|z) - log p(z) + log q(z|x)."""
    parts = [model.hard_loss(images[b:b + chunk], samples).view(-1, samples).mean(1) for b in range(0, len(images), chunk)]
    return torch.cat(parts).double()


def train(model, data, args, log):
    opt = (torch.optim.Adam(model.parameters(), lr=args.lr) if args.optimizer == "adam"
           else torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9))
    train_images, valid = data
    step, best, best_state, best_epoch = 0, math.inf, None, 0
    for epoch in range(1, args.epochs + 1):
        start, total = time.perf_counter(), 0.0
        order = torch.randperm(len(train_images))
        for b in range(0, len(train_images), args.batch):
            loss = model.loss(train_images[order[b:b + args.batch]], tau=temperature(step, args)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, step = total + loss.item(), step + 1
        line = f"epoch {epoch:3d}  loss {total / (len(train_images) // args.batch):7.3f}  tau {temperature(step, args):.3f}"
        if epoch % args.valid_every == 0 or epoch == args.epochs:
            v = neg_elbo(model, valid, 1).mean().item()
            if v < best:
                best, best_state, best_epoch = v, copy.deepcopy(model.state_dict()), epoch
            line += f"  valid {v:7.3f} (best {best:7.3f} @{best_epoch})"
            log.append({"epoch": epoch, "valid_neg_elbo": v})
        print(line + f"  {time.perf_counter() - start:5.1f}s", flush=True)
    model.load_state_dict(best_state)
    return best, best_epoch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/binarized_mnist.h5")
    p.add_argument("--latent", choices=["bernoulli", "categorical"], default="bernoulli")
    p.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--rate", type=float, default=1e-4)
    p.add_argument("--every", type=int, default=1000)
    p.add_argument("--tau-min", type=float, default=0.5)
    p.add_argument("--epochs", type=int, default=150)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--valid-every", type=int, default=2)
    p.add_argument("--test-samples", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = VAE(groups=200, classes=1, latent="bernoulli") if args.latent == "bernoulli" else VAE()
    log = []
    start = time.perf_counter()
    best, best_epoch = train(model, (split(args.data, "train"), split(args.data, "valid")), args, log)
    test = neg_elbo(model, split(args.data, "test"), args.test_samples)
    result = {"config": vars(args), "torch": torch.__version__, "best_valid_neg_elbo": best, "best_epoch": best_epoch,
              "test_neg_elbo": test.mean().item(), "test_neg_elbo_sem": (test.std() / math.sqrt(len(test))).item(),
              "wall_seconds": time.perf_counter() - start, "valid_curve": log}
    with open(args.out + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)
    print(f"test -ELBO {result['test_neg_elbo']:.2f} ± {result['test_neg_elbo_sem']:.2f} (per-image se, "
          f"{args.test_samples} samples), best valid {best:.2f} @{best_epoch} → {args.out}")


if __name__ == "__main__":
    main()
