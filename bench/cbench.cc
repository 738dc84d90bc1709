// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * cbench.cc - the C shim over Google Benchmark (see cbench.h).
 * Invariants: a cbench_state is a benchmark::State.  Locking: none.
 */
#include "cbench.h"

#include <benchmark/benchmark.h>

struct cbench_state : benchmark::State {};
struct cbench_bench : benchmark::internal::Benchmark {};

static benchmark::State &S(cbench_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

extern "C" cbench_bench *cbench_register(const char *name, cbench_fn fn,
					 void *user)
{
	auto *b = benchmark::RegisterBenchmark(
		name, [fn, user](benchmark::State &st) {
			fn(reinterpret_cast<cbench_state *>(&st), user);
		});
	return reinterpret_cast<cbench_bench *>(b);
}

extern "C" void cbench_set_threads(cbench_bench *b, int threads)
{
	reinterpret_cast<benchmark::internal::Benchmark *>(b)->Threads(threads);
}

extern "C" void cbench_set_min_time(cbench_bench *b, double seconds)
{
	reinterpret_cast<benchmark::internal::Benchmark *>(b)->MinTime(seconds);
}

extern "C" void cbench_set_iterations(cbench_bench *b, int64_t n)
{
	reinterpret_cast<benchmark::internal::Benchmark *>(b)->Iterations(n);
}

extern "C" void cbench_pause(cbench_state *st)
{
	S(st).PauseTiming();
}

extern "C" void cbench_resume(cbench_state *st)
{
	S(st).ResumeTiming();
}

extern "C" bool cbench_keep_running(cbench_state *st)
{
	return S(st).KeepRunning();
}

extern "C" int cbench_thread_index(cbench_state *st)
{
	return S(st).thread_index();
}

extern "C" int64_t cbench_iterations(cbench_state *st)
{
	return S(st).iterations();
}

extern "C" void cbench_set_counter(cbench_state *st, const char *name,
				   double v, int flags)
{
	benchmark::Counter::Flags f = benchmark::Counter::kDefaults;

	if (flags & CBENCH_RATE)
		f = benchmark::Counter::kIsRate;
	if (flags & CBENCH_AVG_ITERATIONS)
		f = benchmark::Counter::kAvgIterations;
	if (flags & CBENCH_AVG_THREADS)
		f = benchmark::Counter::kAvgThreads;
	S(st).counters[name] = benchmark::Counter(v, f);
}

extern "C" void cbench_set_ns_per_item(cbench_state *st, const char *name,
				       double items)
{
	/* rate = items / s; inverted = s / item; scaled by 1e9 = ns / item */
	S(st).counters[name] = benchmark::Counter(
		items / 1e9, benchmark::Counter::kIsRate |
				     benchmark::Counter::kInvert);
}

extern "C" void cbench_skip_with_error(cbench_state *st, const char *msg)
{
	S(st).SkipWithError(msg);
}

extern "C" int cbench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
