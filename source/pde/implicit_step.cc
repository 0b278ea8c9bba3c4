// The linearly implicit upwind step of FiniteVolumeSolver (M10, doc/theory.md §4.2): the face
// velocities of ρⁿ frozen, (I/Δt + A(ρⁿ)) ρⁿ⁺¹ = ρⁿ/Δt solved by PETSc's KSP.
#include <meanfield/base/exceptions.h>
#include <meanfield/base/stopwatch.h>
#include <meanfield/pde/face_table.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/newton_solver.h>
#include <meanfield/pde/transport_solver.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>

namespace MeanField {
using namespace dealii;

template <int dim>
FiniteVolumeSolver<dim>::~FiniteVolumeSolver() {} // here, where TransportSolver is complete

template <int dim>
void FiniteVolumeSolver<dim>::set_up_implicit_solver() {
  if (faces)
    build_face_sparsity();
  else
    build_transport_sparsity();
  rho_previous.reinit(owned, comm);
  for (unsigned int i = 0; i < dim; ++i)
    dF_frozen[i].assign(patch_size, 0.0);
  face_dF_frozen.assign(face_dF.size(), 0.0);
  // the identity (zero velocities, dt = 1): enough for PETSc to read every option
  transport = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    transport.add(owned.nth_index_in_set(c), owned.nth_index_in_set(c), 1.0);
  transport.compress(VectorOperation::add);
  if (prm.scheme == TimeScheme::backward_euler) {
    set_up_newton_solver();
    return;
  }
  linear_solver = std::make_unique<TransportSolver>(comm, prm.linear_solver_options,
                                                    prm.command_line_solver_options);
  linear_solver->check_options(transport);
}

template <int dim>
void FiniteVolumeSolver<dim>::implicit_step(const double dt) {
  const FlushSubnormals guard;
  Assert(prepared, ExcMessage("implicit_step() needs prepare_step() first"));
  AssertThrow(linear_solver, ExcMessage("implicit_step() needs Scheme = linearly implicit"));
  remember_step_start();

  {
    const Stopwatch watch(timings.assembly);
    assemble_transport_matrix(dt);
  }
  rhs = rho;
  rhs *= 1.0 / dt;
  stage = rho; // the initial guess
  try {
    const Stopwatch watch(timings.solve);
    last_linear_iterations = linear_solver->solve(transport, stage, rhs);
  } catch (const RunError &error) {
    throw RunError("Step " + std::to_string(n_steps + 1) +
                   " from t = " + std::to_string(current_time) +
                   " with dt = " + std::to_string(dt) + ": " + error.what() +
                   "; the state at t = " + std::to_string(current_time) + " is kept.");
  }
  check_new_density(stage, dt,
                    "The linear solver's tolerance is too loose for this step: tighten -ksp_rtol "
                    "in Time stepping/Linear solver options, or lower Time stepping/Maximum time "
                    "step");

  // What left through outflow faces during the step: the outward flux of ρⁿ⁺¹ (M10).
  double rate = 0.0;
  if (faces) {
    const OwnedValuesRead values(stage);
    rate = face_outflow_rate(values.data());
  } else {
    const OwnedValuesRead values(stage);
    for (const BoundaryFace &face : boundary_faces)
      if (face.outflow) {
        const double inside = values.data()[face.cell];
        const double flux = upwind_flux(dF[face.direction][face.slot], face.upper ? inside : 0.0,
                                        face.upper ? 0.0 : inside);
        rate += (face.upper ? flux : -flux) * cell_volume * inverse_h[face.direction];
      }
  }
  rho = stage;
  outflow_local += dt * rate;
  current_time += dt;
  ++n_steps;
  if (reactive()) // Lie splitting: the exact reaction with F' of the step's start (§7.2)
    react(dt);
}

template <int dim>
void FiniteVolumeSolver<dim>::remember_step_start() {
  // what undo_step() restores, and the face velocities the accuracy test (M10a) compares with
  prepared = false;
  rho_previous = rho;
  time_previous = current_time;
  outflow_previous = outflow_local;
  for (unsigned int i = 0; i < dim; ++i)
    dF_frozen[i] = dF[i];
  face_dF_frozen = face_dF;
  reaction_xi_frozen = reaction_xi;
}

template <int dim>
void FiniteVolumeSolver<dim>::undo_step() {
  AssertThrow(n_steps > 0, ExcMessage("undo_step() without a step"));
  rho = rho_previous;
  current_time = time_previous;
  outflow_local = outflow_previous;
  --n_steps;
  prepared = false;
}

template <int dim>
double FiniteVolumeSolver<dim>::frozen_velocity_displacement(const double dt) const {
  // dt max_f |u_f(ρⁿ⁺¹) − u_f(ρⁿ)| / h_i over the owned cells' faces (M10a): how many cells the
  // error of the frozen velocity moved mass during the step
  if (faces)
    return face_velocity_displacement(dt);
  double change = 0.0;
  const double *mask = owned_mask.data();
  for (unsigned int i = 0; i < dim; ++i) {
    const double *now = dF[i].data(), *before = dF_frozen[i].data();
    const std::size_t st = patch_stride[i];
    double change_i = 0.0;
#pragma omp simd reduction(max : change_i)
    for (std::size_t s = interior_begin; s < interior_end; ++s) {
      const double up = std::abs(now[s] - before[s]), down = std::abs(now[s - st] - before[s - st]);
      change_i = std::max(change_i, mask[s] * std::max(up, down));
    }
    change = std::max(change, change_i * dt * inverse_h[i]);
  }
  return Utilities::MPI::max(std::max(change, frozen_reaction_change(dt)), comm);
}

template <int dim>
double FiniteVolumeSolver<dim>::frozen_reaction_change(const double dt) const {
  // α dt max_K |F'_K(ρⁿ⁺¹) − F'_K(ρⁿ)|: the error in log ρ_K of the reaction's frozen F' (the
  // reaction's part of M10a; 0 without one). Local.
  if (!reactive() || reaction_xi_frozen.size() != reaction_xi.size())
    return 0.0;
  double change = 0.0;
  for (unsigned int c = 0; c < n_owned; ++c)
    change = std::max(change, std::abs(reaction_xi[c] - reaction_xi_frozen[c]));
  return prm.dynamics.fisher_rao_rate * dt * change;
}

template <int dim>
std::string FiniteVolumeSolver<dim>::linear_solver_description() const {
  return linear_solver ? linear_solver->description()
         : newton      ? newton->description()
                       : std::string();
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template FiniteVolumeSolver<dim>::~FiniteVolumeSolver();                                         \
  template std::string FiniteVolumeSolver<dim>::linear_solver_description() const;                 \
  template void FiniteVolumeSolver<dim>::set_up_implicit_solver();                                 \
  template void FiniteVolumeSolver<dim>::implicit_step(double);                                    \
  template void FiniteVolumeSolver<dim>::undo_step();                                              \
  template void FiniteVolumeSolver<dim>::remember_step_start();                                    \
  template double FiniteVolumeSolver<dim>::frozen_velocity_displacement(double) const;             \
  template double FiniteVolumeSolver<dim>::frozen_reaction_change(double) const;
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
