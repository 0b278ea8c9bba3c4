#pragma once

#include <meanfield/base/memory.h>

#include <string>

namespace MeanField {
class Problem;
struct PdeParameters;

/**
 * The items of a run's memory estimate (per rank, from the parameters alone; base/memory.h).
 * Measured: a finite-volume cell with its deal.II mesh, DoF handlers, PETSc vectors and the
 * operator's patch arrays takes about 720 B in 2D and 1.1 kB in 3D (RSS over 2^18 and 2^20
 * cells); a particle about 12 d + 8 doubles (positions, F', ∇F', the forward–backward and
 * backtracking copies, four RK stages). The estimates round these up.
 */
namespace RunMemory {
/// The data set and the kernel's state (every rank holds all of it).
void add_data(MemoryEstimate &memory, const Problem &problem);
/// The finite-volume mesh of @p pde refined @p extra_refinements more times (the study's
/// reference), distributed over @p n_ranks (1D meshes are replicated on every rank).
void add_mesh(MemoryEstimate &memory, const PdeParameters &pde, unsigned int dim,
              unsigned int n_ranks, unsigned int extra_refinements = 0,
              const std::string &what = "mesh");
/// m particles in dimension d over @p n_ranks, the entry that sets m named.
void add_particles(MemoryEstimate &memory, double m, unsigned int d, unsigned int n_ranks,
                   const std::string &entry);
/// The distances of compare and study: the projections of both measures, gathered on every rank.
void add_metrics(MemoryEstimate &memory, double m, double cells);
/// Run mode = evaluate: mu0 on N^d grid midpoints (d ≤ 3) over @p n_ranks.
void add_evaluation_grid(MemoryEstimate &memory, unsigned int points_per_direction, unsigned int d,
                         unsigned int n_ranks);
} // namespace RunMemory
} // namespace MeanField
