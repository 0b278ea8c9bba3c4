#pragma once

#include <meanfield/objective/weighted_cloud.h>

#include <mpi.h>

#include <string>
#include <vector>

namespace MeanField {
/// One point-data field of a particle cloud: `components` values per local particle, row-major.
struct ParticleField {
  std::string name;
  unsigned int components = 1;
  std::vector<double> values;
};

/**
 * Write this rank's particles as `<directory>/particles/particles_NNNNN.<rank>.vtu` (a VTK XML
 * unstructured grid of VTK_VERTEX cells, binary, zlib-compressed) and, on rank 0, the record
 * `<directory>/particles/particles_NNNNN.pvtu` naming every rank's piece. VTK points are 3D:
 * the first min(d, 3) coordinates of θ, zeros after; a field "theta" with all d coordinates is
 * always written besides @p fields. Returns the .pvtu name relative to @p directory. Collective.
 * Throws std::invalid_argument if a field has not `components` values per particle.
 */
std::string write_particles_vtu(const std::string &directory, unsigned int index,
                                const PointSet &positions, const std::vector<ParticleField> &fields,
                                MPI_Comm comm);
} // namespace MeanField
