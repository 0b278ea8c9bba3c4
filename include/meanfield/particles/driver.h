#pragma once

#include <meanfield/app/parameters.h>
#include <meanfield/io/particle_output.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/particles/particle_system.h>

#include <deal.II/base/conditional_ostream.h>

namespace MeanField {
/// Point data of the particle VTK files: weight, F', velocity −∇F' (3 components for d ≤ 3, like
/// the points), global id, and for d ≤ 4
/// each coordinate by its name (the signed weight r of deconvolution, say).
std::vector<ParticleField> particle_output_fields(const ParticleSystem &system,
                                                  const Problem &problem);

/**
 * The time loop of `Run mode = particles`: the `statistics` table (one row per iteration),
 * particle VTK output (`particles.pvd`, `particles/`) at the output times, which the steps land
 * on exactly, a progress line and a timer summary. Stops with a RunError and advice when F
 * becomes non-finite or grows by more than a factor 100 over its initial value (a step η too
 * large), after writing the statistics so far.
 */
void run_particles(ParticleSystem &system, const Problem &problem, const RunParameters &run,
                   const ParticleParameters &parameters, MPI_Comm comm,
                   dealii::ConditionalOStream &pcout);
} // namespace MeanField
