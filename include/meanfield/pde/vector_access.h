#pragma once

#include <deal.II/lac/petsc_vector.h>

#include <petscvec.h>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cstddef>

namespace MeanField {
/// RAII read access to the owned + ghost values of a ghosted PETSc vector (local form order).
class LocalForm {
public:
  explicit LocalForm(const dealii::PETScWrappers::MPI::Vector &v)
      : vector(v) {
    VecGhostGetLocalForm(vector, &local);
    VecGetArrayRead(local, &values);
  }
  ~LocalForm() {
    VecRestoreArrayRead(local, &values);
    VecGhostRestoreLocalForm(vector, &local);
  }
  LocalForm(const LocalForm &) = delete;
  LocalForm &operator=(const LocalForm &) = delete;
  const double *data() const { return values; }

private:
  Vec vector, local = nullptr;
  const double *values = nullptr;
};

/// RAII write access to the owned values of a PETSc vector.
class OwnedValues {
public:
  explicit OwnedValues(dealii::PETScWrappers::MPI::Vector &v)
      : vector(v) {
    VecGetArray(vector, &values);
  }
  ~OwnedValues() { VecRestoreArray(vector, &values); }
  OwnedValues(const OwnedValues &) = delete;
  OwnedValues &operator=(const OwnedValues &) = delete;
  double *data() { return values; }

private:
  Vec vector;
  double *values = nullptr;
};

/// RAII read access to the owned values of a PETSc vector.
class OwnedValuesRead {
public:
  explicit OwnedValuesRead(const dealii::PETScWrappers::MPI::Vector &v)
      : vector(v) {
    VecGetArrayRead(vector, &values);
  }
  ~OwnedValuesRead() { VecRestoreArrayRead(vector, &values); }
  OwnedValuesRead(const OwnedValuesRead &) = delete;
  OwnedValuesRead &operator=(const OwnedValuesRead &) = delete;
  const double *data() const { return values; }

private:
  Vec vector;
  const double *values = nullptr;
};

/**
 * Densities decay to subnormal numbers (< 2.2e-308) in empty cells, and arithmetic on those is
 * ~100x slower on x86. While stepping, flush them to zero (FTZ and DAZ), then restore the
 * caller's floating-point state. No density of interest is affected.
 */
class FlushSubnormals {
public:
  FlushSubnormals() {
#if defined(__SSE__)
    saved = _mm_getcsr();
    _mm_setcsr(saved | 0x8040); // FTZ (bit 15) | DAZ (bit 6)
#endif
  }
  ~FlushSubnormals() {
#if defined(__SSE__)
    _mm_setcsr(saved);
#endif
  }
  FlushSubnormals(const FlushSubnormals &) = delete;
  FlushSubnormals &operator=(const FlushSubnormals &) = delete;

private:
  unsigned int saved = 0;
};

/// The minmod limiter of two one-sided differences (M9d).
inline double minmod(const double a, const double b) {
  return a * b <= 0 ? 0.0 : (a > 0 ? std::min(a, b) : std::max(a, b));
}

/// The upwind flux through a face in its +e_i orientation, velocity u = −dF (dF = ∂_i F' at the
/// face) and face values ρ_L (lower cell) and ρ_R (upper cell): u⁺ ρ_L + u⁻ ρ_R (M9).
inline double upwind_flux(const double dF, const double rho_left, const double rho_right) {
  return -(std::min(dF, 0.0) * rho_left + std::max(dF, 0.0) * rho_right);
}
} // namespace MeanField
