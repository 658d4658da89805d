// The numerics of every head for the next token, computed ahead of the simulation.
//
// Normally a head forks its numerics for a token when its write phase begins and joins them at
// the end of its Q phase: the heads of one layer compute in parallel, but between layers the
// simulation thread works alone (phases, energy, the host's transactions) while the other
// threads wait. When the platform knows every head's inputs before the host writes them (open
// loop: the stimulus does not depend on outputs) and time does not enter the numerics (cells
// that do not leak, so no decay and no refresh), the numerics of token t + 1 of every head can
// run on the pool while the simulation thread runs token t: all threads stay busy, and a
// token's 144 heads of GPT-2 cost one batch instead of twelve fork/join barriers.
//
// What stays as it was: the simulation's timing and energy (the heads book what the records
// say, at the times the phases end), the order of everything, and every number: a record holds
// what HeadModel::step gives for the token's inputs, the same as the forked step; a head
// checks at its Q phase that the inputs its registers latched are those the record was computed
// from (a mismatch is an internal error, never a silent wrong result).
//
// Work is claimed in (token, head) order from one counter, by the pool's workers and by the
// simulation thread when it needs a record that is not ready (it computes heads itself rather
// than wait). Each head keeps two records (tokens t and t + 1): a token's batch is scheduled
// when head 0 takes the token before it, which in decode (one token in the layers at a time)
// comes after every head has delivered the token two before; scheduling checks this.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "gca/spec/parallel.hpp"

namespace gca::sc {

class AttentionHead;

class NumericsAhead {
 public:
  // Token data per (token, layer, head), as the host will write it: called from several
  // threads at once, so it must be a pure function of its arguments.
  using Inputs =
      std::function<void(long token, int layer, int head, double* q, double* k, double* v)>;

  // heads: every head, index layer * n_heads + head; tokens: how many the host sends (none
  // past them is computed); pool: with at least one worker.
  NumericsAhead(std::vector<AttentionHead*> heads, int n_heads, Inputs inputs, long tokens,
                spec::TaskPool& pool);
  ~NumericsAhead();  // waits for the work in flight
  NumericsAhead(const NumericsAhead&) = delete;
  NumericsAhead& operator=(const NumericsAhead&) = delete;

  // Head `index` takes token t (simulation thread): head 0 schedules the batches of t and t + 1.
  void taken(int index, long t);
  // Returns when head `index` holds the record of token t, computing heads meanwhile.
  void wait(int index, long t);
  // Head `index` no longer reads its record of token t (simulation thread).
  void released(int index, long t) { released_[std::size_t(index)] = t; }

 private:
  void schedule(long t);
  long claim();             // the next (token, head) item, or -1 when none is scheduled
  void compute(long item);  // one head's step for one token, into its record
  void drain();             // claims and computes until no item is left
  std::vector<AttentionHead*> heads_;
  int n_heads_;
  Inputs inputs_;
  long tokens_;
  spec::TaskPool* pool_;
  long scheduled_ = -1;  // the last token whose batch is scheduled (simulation thread)
  std::vector<long> released_;
  std::unique_ptr<std::atomic<long>[]> ready_;   // per head: the last token whose record is done
  std::atomic<long> next_{0};                    // the next item: token * heads + index
  std::atomic<long> limit_{0};                   // items below this are scheduled
  std::vector<spec::TaskPool::Ticket> helpers_;  // drain tasks forked and not seen done
};

}  // namespace gca::sc
