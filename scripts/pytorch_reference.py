"""The sbn-gs and vae-cat-gs tasks in plain PyTorch, as a researcher would write them: the speed
reference that `make bench-pytorch` compares SBNLab with on the same machine (not part of the
test suite).

--model sbn: the 392-200-200-392 SBN of Bernoulli units, binary Concrete relaxation at tau = 1.
--model vae: the mlp VAE of experiments/vae-cat-gs.yaml, 784-512-256-(20x10)-256-512-784 ReLU,
Gumbel-Softmax at tau = 1 (the schedule's start; the cost does not depend on tau), the prior term
log q(z|x) - log p(z) at the relaxed sample with the categorical densities and a uniform prior.
Both: batch 100, Adam lr 1e-3; evaluation draws m = 1000 hard samples per test image and takes
log-mean-exp, two images (2000 rows) at a time under torch.no_grad().
"""
import argparse
import math
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def load(path):
    with h5py.File(path, "r") as f:
        train = torch.from_numpy(f["train/images"][:].astype(np.float32))
        test = torch.from_numpy(f["test/images"][:].astype(np.float32))
    return train, test


class SBN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = torch.nn.Linear(392, 200), torch.nn.Linear(200, 200), torch.nn.Linear(200, 392)

    def relaxed(self, x, tau=1.0):
        h = x
        for layer in (self.l1, self.l2):
            a = layer(h)
            u = torch.rand_like(a).clamp_(1e-7, 1 - 1e-7)
            h = torch.sigmoid((a + torch.log(u) - torch.log1p(-u)) / tau)
        return self.l3(h)

    def hard(self, x):
        h = x
        for layer in (self.l1, self.l2):
            a = layer(h)
            h = (torch.rand_like(a) < torch.sigmoid(a)).float()
        return self.l3(h)


class VAE(torch.nn.Module):
    """Jang's notebook's MLP with 20 categorical latents of 10 classes, or (latent="bernoulli")
    200 Bernoulli latents relaxed as binary Concrete (Jang et al. 2017 §2 for k = 2)."""

    def __init__(self, groups=20, classes=10, latent="categorical"):
        super().__init__()
        self.groups, self.classes, self.latent = groups, classes, latent
        z = groups * classes
        self.encoder = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
                                           torch.nn.Linear(256, z))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(z, 256), torch.nn.ReLU(), torch.nn.Linear(256, 512), torch.nn.ReLU(),
                                           torch.nn.Linear(512, 784))

    def _log_ratio(self, a, y):
        """sum y (log q - log p) with the discrete densities (uniform prior) at y, relaxed or hard."""
        if self.latent == "bernoulli":
            return (y * F.logsigmoid(a) + (1 - y) * F.logsigmoid(-a) + math.log(2)).sum(1)
        return (y * (a + math.log(self.classes))).sum((1, 2))

    def _encode(self, x):
        a = self.encoder(x)
        return a if self.latent == "bernoulli" else F.log_softmax(a.view(-1, self.groups, self.classes), -1)

    def _nll(self, y, x):
        return F.binary_cross_entropy_with_logits(self.decoder(y.reshape(x.shape[0], -1)), x, reduction="none").sum(1)

    def loss(self, x, tau=1.0):
        """Per image, -log p(x|y) + sum y (log q - log p) at the relaxed sample y (the paper's objective)."""
        a = self._encode(x)
        if self.latent == "bernoulli":
            u = torch.rand_like(a).clamp_(1e-7, 1 - 1e-7)
            y = torch.sigmoid((a + torch.log(u) - torch.log1p(-u)) / tau)
        else:
            y = F.gumbel_softmax(a, tau=tau)
        return self._nll(y, x) + self._log_ratio(a, y)

    def hard_loss(self, x, m):
        """Per row of x repeated m times: f = -log p(x|z) - log p(z) + log q(z|x), z drawn from q."""
        a = self._encode(x).repeat_interleave(m, 0)
        if self.latent == "bernoulli":
            z = (torch.rand_like(a) < torch.sigmoid(a)).float()
        else:
            z = F.one_hot(torch.distributions.Categorical(logits=a).sample(), self.classes).float()
        return self._nll(z, x.repeat_interleave(m, 0)) + self._log_ratio(a, z)


def train_epoch(model, opt, train, batch=100):
    order = torch.randperm(train.shape[0])
    start = time.perf_counter()
    for b in range(0, train.shape[0], batch):
        x = train[order[b:b + batch]]
        if isinstance(model, VAE):
            loss = model.loss(x).mean()
        else:
            top, bottom = x[:, :392], x[:, 392:]
            loss = F.binary_cross_entropy_with_logits(model.relaxed(top), bottom, reduction="sum") / x.shape[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


@torch.no_grad()
def evaluate(model, test, m=1000, images_per_chunk=2):
    start, total = time.perf_counter(), 0.0
    for b in range(0, test.shape[0], images_per_chunk):
        x = test[b:b + images_per_chunk]
        if isinstance(model, VAE):
            ll = -model.hard_loss(x, m).view(-1, m)
        else:
            top = x[:, :392].repeat_interleave(m, 0)
            bottom = x[:, 392:].repeat_interleave(m, 0)
            ll = -F.binary_cross_entropy_with_logits(model.hard(top), bottom, reduction="none").sum(1).view(-1, m)
        total += (-(torch.logsumexp(ll, 1) - math.log(m))).sum().item()
    return time.perf_counter() - start, total / test.shape[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/binarized_mnist.h5")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--eval-images", type=int, default=10000)
    p.add_argument("--model", choices=["sbn", "vae"], default="sbn")
    args = p.parse_args()
    train, test = load(args.data)
    torch.manual_seed(1)
    print(f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, model {args.model}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = VAE() if args.model == "vae" else SBN()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        best = min(train_epoch(model, opt, train) for _ in range(args.epochs))
        print(f"training, {threads} thread(s): {train.shape[0] / best:.0f} examples/s (best of {args.epochs} epochs)")
    torch.set_num_threads(2)
    seconds, nll = evaluate(model, test[:args.eval_images])
    print(f"evaluation, m = 1000, {args.eval_images} test images, 2 threads: {seconds:.1f} s (NLL {nll:.2f})")


if __name__ == "__main__":
    main()
