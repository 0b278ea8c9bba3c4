#pragma once

#include <mpi.h>

#include <stdexcept>
#include <string>

namespace MeanField {
/**
 * Thrown at a step boundary after SIGINT or SIGTERM: the time loop that catches it flushes its
 * tables (frames are written whole, and the pvd records list only complete ones), rethrows, and
 * `meanfield` reports where it stopped and exits with 128 + the signal (130, 143).
 */
class Interrupted : public std::runtime_error {
public:
  Interrupted(int signal, const std::string &where)
      : std::runtime_error(where)
      , signal(signal) {}
  /// Where: "step n, t = ...".
  static Interrupted at(int signal, unsigned long step, double time);
  const int signal;
};

/**
 * While alive, SIGINT and SIGTERM only record that they arrived (the run stops at the next step
 * boundary instead of dying in the middle of a frame); the previous handlers come back after.
 */
class InterruptHandler {
public:
  InterruptHandler();
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler &) = delete;
  InterruptHandler &operator=(const InterruptHandler &) = delete;
};

/// The signal recorded on any rank of @p comm (0: none). Collective: one MPI_Allreduce.
int interrupt_signal(MPI_Comm comm);

/// Throws Interrupted("step n, t = ...") on every rank if a signal arrived on any. Collective.
void check_interrupt(MPI_Comm comm, unsigned long step, double time);
} // namespace MeanField
