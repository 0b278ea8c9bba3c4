#pragma once

#include <mpi.h>

namespace MeanField {
/**
 * The whole `meanfield` program after MPI start-up: command line, parameters,
 * checks, dispatch on the dimension and run mode. Returns the exit code:
 * 0 success, 1 bad input (nothing written), 2 a failed run, 3 an internal error.
 */
int run_application(int argc, char **argv, MPI_Comm communicator);
} // namespace MeanField
