#pragma once

#include <meanfield/time/stepper.h>

#include <deal.II/base/conditional_ostream.h>

#include <mpi.h>

#include <limits>
#include <string>
#include <vector>

namespace MeanField {
/// When the loop records and when it stops (from the Output and the time-stepping entries).
struct TimeLoopSettings {
  double end_time = 1.0;
  double output_interval = 0.0;     ///< output every this much time (0: at 0 and at the end only)
  std::vector<double> output_times; ///< explicit output times (used instead of the interval)
  unsigned int output_steps = 0;    ///< and every this many steps (0: never by steps)
  unsigned long max_steps = std::numeric_limits<unsigned long>::max();
  double stationarity_tolerance = 0.0; ///< stop once the residual is below (0: never)
  std::string stationarity_entry;      ///< the entry that sets it (for the messages)
  bool progress = true;                ///< a progress line about once a second
  std::string step_name = "step";      ///< "step" or "iteration" in the progress line
};

/// Why a TimeLoop::run() returned.
enum class StopReason { end_time, max_steps, stationary, observer };

/// "end time", "stationary", ...: for banners and tables.
std::string to_string(StopReason reason);

/**
 * What a run mode does at the events of the loop. Every hook has a default that does nothing.
 * At each state the loop calls state(); then, if a step follows, step() with the step taken
 * (a statistics row holds the state and the step from it), or else final_state().
 */
class TimeLoopObserver {
public:
  virtual ~TimeLoopObserver() = default;
  /// The prepared state at time t (output_due: an output time; write frames then).
  virtual void state(const Stepper &, bool /*output_due*/) {}
  /// The step of length dt taken from the state of the last state() call.
  virtual void step(const Stepper &, double /*dt*/) {}
  /// The state of the last state() call is the last one (end, stop, interrupt).
  virtual void final_state(const Stepper &) {}
  /// Write the tables to disk: at output times, and before an exception leaves the loop.
  virtual void flush() {}
  /// A stop criterion of the mode's own (the paper's optimum or stall): true stops the run.
  virtual bool stop(const Stepper &) { return false; }
};

/**
 * The one time loop of every run mode (pde, particles, compare, study, paper): it lands on the
 * output times and on the end time exactly, hands every state to the observer (statistics rows,
 * VTK frames and pvd records are the observer's), prints a progress line about once a second,
 * stops at the end time, after the maximum number of steps, at stationarity or when the
 * observer says so, and turns SIGINT/SIGTERM into Interrupted at a step boundary. On any
 * exception the observer flushes its tables first.
 */
class TimeLoop {
public:
  TimeLoop(const TimeLoopSettings &settings, MPI_Comm comm, dealii::ConditionalOStream &pcout);

  /// From the stepper's time to the end time (or an earlier stop). Collective.
  StopReason run(Stepper &stepper, TimeLoopObserver &observer);

  /// Tolerance of "t has reached s": 1e-12 (1 + End time).
  double time_tolerance() const { return tolerance; }

private:
  TimeLoopSettings settings;
  MPI_Comm comm;
  dealii::ConditionalOStream &pcout;
  double tolerance;

  /// The first output time after @p t (the end time when there is none).
  double next_output_after(double t) const;
  bool output_due(const Stepper &stepper, double next_output) const;
  void print_progress(const Stepper &stepper, double elapsed) const;
};
} // namespace MeanField
