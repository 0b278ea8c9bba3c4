#pragma once

#include <meanfield/time/time_loop.h>

#include <deal.II/base/conditional_ostream.h>

#include <functional>
#include <iostream>
#include <vector>

namespace MeanField {
/**
 * The observer of a run that only needs its state at given times (the PDE snapshots and the
 * particle runs of a study): record() at each of them. The loop lands on them as on output
 * times (TimeLoopSettings::output_times).
 */
class RecordAtTimes : public TimeLoopObserver {
public:
  RecordAtTimes(const std::vector<double> &times_, std::function<void(const Stepper &)> record_)
      : times(times_)
      , record(std::move(record_))
      , tolerance(1e-12 * std::max(1.0, times_.empty() ? 1.0 : times_.back())) {}

  void state(const Stepper &stepper, bool) override {
    if (next < times.size() && stepper.time() >= times[next] - tolerance) {
      record(stepper);
      ++next;
    }
  }

private:
  std::vector<double> times;
  std::function<void(const Stepper &)> record;
  double tolerance;
  std::size_t next = 0;
};

/// Runs @p stepper through the (increasing) @p times with the one TimeLoop, quietly, calling
/// @p record at each. Collective.
inline void run_through_times(Stepper &stepper, const std::vector<double> &times,
                              const std::function<void(const Stepper &)> &record, MPI_Comm comm) {
  if (times.empty())
    return;
  TimeLoopSettings settings;
  settings.end_time = times.back();
  settings.output_times = times;
  settings.progress = false;
  dealii::ConditionalOStream quiet(std::cout, false);
  RecordAtTimes observer(times, record);
  TimeLoop(settings, comm, quiet).run(stepper, observer);
}
} // namespace MeanField
