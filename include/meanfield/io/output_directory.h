#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace MeanField {
/**
 * Whether @p name (relative to an output directory) is a file that a MeanField run or its
 * postprocess scripts write there: the tables (statistics, comparison, study*, paper*,
 * trajectories, ground_truth) and their .tmp, parameters.prm, solution.pvd / particles.pvd, the
 * frames solution/solution_NNNNN.* and particles/particles_NNNNN.*, and the plots
 * (comparison.png, convergence.png, paper.png, trajectories.png, <field>_t<T>.png).
 */
bool is_run_file(const std::string &name);

/// The run files (is_run_file()) in @p path, relative and sorted; empty if @p path does not exist.
std::vector<std::string> previous_run_files(const std::string &path);

/**
 * Checks @p path without touching it: it is a directory or does not exist yet, and it holds no
 * previous run's files unless @p overwrite (Output/Overwrite). Collective: every rank throws
 * the same InputError, which names the directory, what is there and the fix.
 */
void check_output_directory(const std::string &path, bool overwrite, MPI_Comm communicator);

/**
 * Create @p path (and its parents) on rank 0, remove the previous run's files if @p overwrite
 * (only those: nothing else in the directory is touched), and prove the directory writable by
 * writing and removing a probe file. Collective: every rank throws the same InputError, naming
 * the directory and the system's reason, if that fails.
 */
void prepare_output_directory(const std::string &path, bool overwrite, MPI_Comm communicator);
} // namespace MeanField
