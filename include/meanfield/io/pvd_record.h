#pragma once

#include <mpi.h>

#include <string>
#include <utility>
#include <vector>

namespace MeanField {
/**
 * The ParaView collection `<directory>/<name>.pvd` of a run's frames: a frame is added only
 * once it is completely written, and the record is replaced atomically, so that at every moment
 * (a crash, a full disk, an interrupt) the record lists complete frames only.
 */
class PvdRecord {
public:
  PvdRecord(const std::string &directory, const std::string &name);

  /// Append the frame @p file (relative to the directory) at time @p t and rewrite the record
  /// on rank 0. Collective; RunError on every rank if the record cannot be written.
  void add(double t, const std::string &file, MPI_Comm comm);

  std::size_t size() const { return records.size(); }

private:
  std::string path;
  std::vector<std::pair<double, std::string>> records;
};
} // namespace MeanField
