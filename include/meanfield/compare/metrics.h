#pragma once

#include <meanfield/objective/objective.h>
#include <meanfield/objective/weighted_cloud.h>

#include <mpi.h>

#include <cstdint>
#include <vector>

namespace MeanField {
/**
 * Distances between two measures on parameter space (doc/theory.md §5), each given by the part of a
 * weighted cloud this rank holds (particles: positions × 1/m; the PDE: cell centres × cell
 * masses). All functions are collective over @p comm and give the same value on every rank,
 * whatever the split of the clouds over the ranks.
 */

/// ‖f_μ − f_ν‖_{L²(ρ)} = (Σ_k ρ_k (f_μ(x_k) − f_ν(x_k))²)^{1/2} from two evaluated states.
double prediction_distance(const Objective::State &mu, const Objective::State &nu,
                           const Dataset &data);

/**
 * MMD_k(μ, ν) with the Gaussian kernel k(θ, θ') = exp(−|θ − θ'|²/(2σ²)):
 * MMD² = ∫∫k d(μ−ν)d(μ−ν). Exact, O((m + n)²) by blocks after gathering both clouds.
 */
double mmd_exact(const WeightedCloud &mu, const WeightedCloud &nu, double bandwidth, MPI_Comm comm);

/**
 * The same by D random Fourier features (Rahimi & Recht 2007): k(θ, θ') = E_ω cos(ω·(θ − θ')),
 * ω ~ N(0, σ⁻² I), so MMD² ≈ (1/D) Σ_d |μ̂(ω_d) − ν̂(ω_d)|² with μ̂(ω) = Σ_j w_j e^{iω·θ_j}.
 * O((m + n) D) and one all-reduce of 2D numbers (the difference of the two transforms); an unbiased
 * estimate of MMD² whose standard deviation is at most 2 (Σ|w|)² / √D. The frequencies come
 * from @p seed (same on every rank).
 */
double mmd_random_features(const WeightedCloud &mu, const WeightedCloud &nu, double bandwidth,
                           unsigned int n_features, std::uint64_t seed, MPI_Comm comm);

/**
 * A measure on the line as pieces: mass `mass` spread uniformly on [a, b] (a Dirac if a == b).
 * The finite-volume density of a 1D mesh is one piece per cell (its CDF is piecewise linear).
 */
struct LinePiece {
  double a, b, mass;
};

/**
 * W1(μ, ν) = ∫|F_μ(t) − F_ν(t)| dt for two measures on the line of equal mass, exactly: both CDFs
 * are piecewise linear between the merged breakpoints, and |F_μ − F_ν| is integrated exactly on
 * each interval (including a sign change). Throws InputError if the masses differ by > 1e-10.
 */
double wasserstein1_line(const std::vector<LinePiece> &mu, const std::vector<LinePiece> &nu,
                         MPI_Comm comm);

/// The pieces of a 1D weighted cloud (Diracs).
std::vector<LinePiece> dirac_pieces(const WeightedCloud &cloud);

/**
 * Weighted W2 between two discrete measures on the line of equal mass:
 * W2² = ∫_0^1 |F_μ⁻¹(u) − F_ν⁻¹(u)|² du, merging the quantile breakpoints. O((m + n) log(m + n)).
 * Local (the values and weights are complete here).
 */
double wasserstein2_line(std::vector<std::pair<double, double>> mu,
                         std::vector<std::pair<double, double>> nu);

/**
 * Sliced W2: (1/K Σ_k W2²(P_k μ, P_k ν))^{1/2} over K directions uniform on the sphere S^{d−1}
 * (from @p seed, the same on every rank), P_k θ = θ·e_k. Each projection gathers both clouds'
 * projected values and weights and sorts them: O((m + n) log(m + n)) per direction.
 */
double sliced_wasserstein2(const WeightedCloud &mu, const WeightedCloud &nu,
                           unsigned int n_directions, std::uint64_t seed, MPI_Comm comm);

/// The K unit directions sliced_wasserstein2() uses for @p seed in R^d (row-major K × d).
std::vector<double> slicing_directions(unsigned int d, unsigned int n_directions,
                                       std::uint64_t seed);
} // namespace MeanField
