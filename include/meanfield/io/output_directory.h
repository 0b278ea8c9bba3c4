#pragma once

#include <mpi.h>

#include <string>

namespace MeanField {
/**
 * Create @p path (and its parents) on rank 0 and prove it writable by writing and
 * removing a probe file. Collective: every rank throws the same InputError, naming
 * the directory and the system's reason, if that fails. Nothing else is written.
 */
void prepare_output_directory(const std::string &path, MPI_Comm communicator);
} // namespace MeanField
