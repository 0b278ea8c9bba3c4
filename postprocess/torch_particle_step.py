#!/usr/bin/python3
"""The reference for the particle benchmark (issue 4): one full-batch gradient step of the
particle method written as a researcher would in PyTorch (autograd, float64, 2 threads), for the
same three cases as tests/benchmarks/bench_particles.cc, m = 10^4 particles:

  deconvolution   theta_i = (x_i, r_i), f(s) = (1/m) sum_i r_i psi(s - x_i), Dirichlet f_c = 7,
                  n = 100 samples, square loss, V = lambda |r|;
  ReLU d_in = 2   theta_i = (a_i, w_i), f(x) = (1/m) sum_i a_i max(w_i . x, 0), n = 1000;
  ReLU d_in = 100 the same with inputs in R^100.

The mean-field velocity is -grad F'(mu_m)(theta_i) = -m dF/dtheta_i, so a step is
theta <- theta - eta * m * grad F. Needs Debian's python3-torch (not installed by the scripts):
    apt-get install python3-torch && /usr/bin/python3 postprocess/torch_particle_step.py
"""
import math
import time

import torch

torch.set_num_threads(2)
torch.set_default_dtype(torch.float64)
m = 10_000


def timed(step, repeats):
    step()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1e3


def deconvolution():
    fc, n, lam = 7, 100, 0.2
    s = torch.arange(n) / n
    x = (torch.arange(m) + 0.5) / m
    r = torch.zeros(m)
    theta = torch.stack([x, r], dim=1).requires_grad_(True)
    y = torch.randn(n)

    def psi(u):  # Dirichlet kernel sum_{|l| <= fc} exp(2 i pi l u), written with cosines
        l = torch.arange(1, fc + 1)
        return 1 + 2 * torch.cos(2 * math.pi * u[..., None] * l).sum(-1)

    def step():
        f = (theta[:, 1:2] * psi(s[None, :] - theta[:, 0:1])).mean(0)
        F = 0.5 * ((f - y) ** 2).mean() + lam * theta[:, 1].abs().mean()
        (g,) = torch.autograd.grad(F, theta)
        with torch.no_grad():
            theta.sub_(1e-9 * m * g)

    return step


def relu(d_in):
    n = 1000
    X = torch.nn.functional.normalize(torch.randn(n, d_in), dim=1)
    y = torch.randn(n)
    theta = torch.randn(m, d_in + 1).requires_grad_(True)

    def step():
        f = (theta[:, 0:1] * torch.relu(theta[:, 1:] @ X.T)).mean(0)
        F = 0.5 * ((f - y) ** 2).mean()
        (g,) = torch.autograd.grad(F, theta)
        with torch.no_grad():
            theta.sub_(1e-9 * m * g)

    return step


print(f"PyTorch {torch.__version__}, float64, {torch.get_num_threads()} threads, m = {m}")
print(f"{'case':<18}{'ms per step':>12}")
for name, step, repeats in [("deconvolution", deconvolution(), 20), ("relu d_in = 2", relu(2), 20),
                            ("relu d_in = 100", relu(100), 5)]:
    print(f"{name:<18}{timed(step, repeats):12.2f}")
