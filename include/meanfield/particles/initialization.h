#pragma once

#include <meanfield/objective/weighted_cloud.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <cstdint>
#include <vector>

namespace MeanField {
/**
 * θ_i(0) for the global particle indices i ∈ [first, first + count) of m (Particles/
 * Initialization). Every method depends on (seed, i) only, never on the number of MPI ranks:
 * a rank asks for its own range and the ranks together hold the same m particles as a serial
 * run.
 *
 * This overload covers the methods that need no density expression: evenly spaced, sphere, and
 * iid from the problem's own sampler (d > 3). Throws InputError for the others.
 */
PointSet initial_particles(const Problem &problem, const ParticleParameters &parameters,
                           std::size_t first, std::size_t count);

/**
 * The methods that sample μ0 given as a density on the Mesh box (d = dim ≤ 3): iid (rejection
 * against twice the maximum of μ0 on a 64^d grid), quasi-random (a Halton sequence in d + 1
 * dimensions thinned by the same rejection), quantiles (d = 1; inverse CDF of μ0 on 2^16
 * midpoints, linear in between) and pde density (the finite-volume cell averages of μ0 by
 * Gauss quadrature on the Mesh lattice, a cell by its mass, then uniform inside it); the rest
 * through the overload above. Throws InputError when μ0 is too peaked for rejection sampling.
 */
template <int dim>
PointSet initial_particles(const Problem &problem, const ParticleParameters &parameters,
                           const InitialDensity<dim> &mu0, const PdeParameters &mesh,
                           std::size_t first, std::size_t count);

/// A 64-bit seed for particle i of a run seeded with @p seed (SplitMix64 of both).
std::uint64_t particle_seed(std::uint64_t seed, std::uint64_t i);

/// The i-th point (i ≥ 1) of the Halton sequence in base @p base, in [0, 1).
double halton(std::uint64_t i, unsigned int base);
} // namespace MeanField
