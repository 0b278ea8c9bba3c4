#pragma once

#include <mpi.h>

#include <functional>
#include <ostream>
#include <string>

namespace MeanField {
/**
 * Write @p path through @p write. Returns "" on success, or the failure with the file and the
 * system's reason ("results/x/statistics.tmp: No space left on device"); a partly written file
 * is removed, so that a directory never holds a cut file.
 */
std::string write_file(const std::string &path, const std::function<void(std::ostream &)> &write);

/**
 * Replace @p path atomically: write @p path.tmp, then rename it onto @p path. Until the rename
 * the previous file stays complete; on failure the .tmp is removed and the error returned
 * (a directory of that name, a full disk, ...).
 */
std::string replace_file(const std::string &path, const std::function<void(std::ostream &)> &write);

/// Collective: if any rank's @p error is not empty, every rank throws RunError with the error of
/// the lowest failing rank, prefixed by @p what.
void throw_if_any_failed(const std::string &error, const std::string &what, MPI_Comm comm);
} // namespace MeanField
